import type { TextReplacement } from '../../shared/config/configEdits';

/**
 * Edits a config where its text lives: in VS Code a WorkspaceEdit on the open document (so undo works and unsaved
 * text is respected), saved afterwards because the engine reads the file. `change` gets the current text and returns
 * the one replacement to make, or undefined when it cannot be placed; the result says whether the edit was made.
 */
export interface ConfigTextEditor {
  edit(configPath: string, change: (text: string) => TextReplacement | undefined): Promise<boolean>;
}
