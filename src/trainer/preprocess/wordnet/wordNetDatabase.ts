import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { WordNetLocation } from './wordNetLocation';

export type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv';

export const PARTS_OF_SPEECH: readonly PartOfSpeech[] = ['noun', 'verb', 'adj', 'adv'];

/** One line of an index file: a lemma's senses in one part of speech, most frequent first. */
export interface IndexEntry {
  readonly lemma: string;
  readonly pos: PartOfSpeech;
  /** Byte offsets of the lemma's synsets in the data file, in WordNet's sense order (most frequent first). */
  readonly synsetOffsets: readonly number[];
  /** How many of its senses were seen in the sense-tagged corpus: a measure of how common this part of speech is for the lemma. */
  readonly taggedSenseCount: number;
}

/** The words of one synset, with spaces for WordNet's underscores and without the adjective position markers. */
export interface Synset {
  readonly offset: number;
  readonly pos: PartOfSpeech;
  readonly words: readonly string[];
}

/** A sorted WordNet index file held as one string, searched by bisection over its line starts. */
class IndexFile {
  private readonly text: string;
  private readonly lineStarts: Int32Array;

  constructor(path: string) {
    // The files are ASCII; latin1 keeps one character per byte and loads fastest.
    this.text = readFileSync(path, 'latin1');
    const starts: number[] = [];
    for (let start = 0; start < this.text.length; ) {
      const end = this.text.indexOf('\n', start);
      // The licence at the top is indented by two spaces; every entry starts with its lemma.
      if (this.text.charCodeAt(start) !== 32 && end !== start) starts.push(start);
      if (end === -1) break;
      start = end + 1;
    }
    this.lineStarts = Int32Array.from(starts);
  }

  /** The entry line for `lemma`, or undefined. Lines sort by lemma because the space after it sorts before any lemma character. */
  find(lemma: string): string | undefined {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const start = this.lineStarts[middle]!;
      const key = this.text.slice(start, this.text.indexOf(' ', start));
      if (key === lemma) return this.text.slice(start, this.text.indexOf('\n', start));
      if (key < lemma) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  get entries(): number {
    return this.lineStarts.length;
  }
}

const FILE_SUFFIX: Record<PartOfSpeech, string> = { noun: 'noun', verb: 'verb', adj: 'adj', adv: 'adv' };

/**
 * A reader of the WordNet database files: lemma lookup in the index files, synsets read from the data files at
 * their byte offsets (so the 22 MB of data files are never loaded whole), and the morphology exception lists in
 * both directions. Open it only when synonyms are needed and close it afterwards.
 */
export class WordNetDatabase {
  private readonly indexes = new Map<PartOfSpeech, IndexFile>();
  private readonly dataFiles = new Map<PartOfSpeech, number>();
  private readonly synsets = new Map<string, Synset>();
  private readonly baseForms = new Map<PartOfSpeech, Map<string, string[]>>();
  private readonly inflectedForms = new Map<PartOfSpeech, Map<string, string[]>>();

  constructor(location: WordNetLocation) {
    for (const pos of PARTS_OF_SPEECH) {
      this.indexes.set(pos, new IndexFile(join(location.databaseDir, `index.${FILE_SUFFIX[pos]}`)));
      this.dataFiles.set(pos, openSync(join(location.databaseDir, `data.${FILE_SUFFIX[pos]}`), 'r'));
      const bases = new Map<string, string[]>();
      const inflected = new Map<string, string[]>();
      for (const line of readFileSync(join(location.exceptionsDir, `${FILE_SUFFIX[pos]}.exc`), 'latin1').split('\n')) {
        const [form, ...lemmas] = line.trim().split(' ');
        if (!form || lemmas.length === 0) continue;
        bases.set(form, lemmas);
        for (const lemma of lemmas) inflected.set(lemma, [...(inflected.get(lemma) ?? []), form]);
      }
      this.baseForms.set(pos, bases);
      this.inflectedForms.set(pos, inflected);
    }
  }

  /** The index entry of a lemma (lower case, spaces as underscores or spaces) in one part of speech. */
  lookup(lemma: string, pos: PartOfSpeech): IndexEntry | undefined {
    const line = this.indexes.get(pos)!.find(lemma.replace(/ /g, '_'));
    if (!line) return undefined;
    const fields = line.trim().split(' ');
    const synsetCount = Number(fields[2]);
    const pointerCount = Number(fields[3]);
    const taggedSenseCount = Number(fields[5 + pointerCount]);
    const synsetOffsets = fields.slice(6 + pointerCount, 6 + pointerCount + synsetCount).map(Number);
    return { lemma, pos, synsetOffsets, taggedSenseCount };
  }

  /** The synset at a byte offset of a data file. */
  synset(pos: PartOfSpeech, offset: number): Synset {
    const key = `${pos}:${offset}`;
    const cached = this.synsets.get(key);
    if (cached) return cached;
    const fields = this.readFields(pos, offset);
    const wordCount = Number.parseInt(fields[3]!, 16);
    const words: string[] = [];
    for (let i = 0; i < wordCount; i++) words.push(fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, '').replace(/_/g, ' '));
    const synset = { offset, pos, words };
    this.synsets.set(key, synset);
    return synset;
  }

  /** Base forms the exception list gives for an irregular form, e.g. verb "ran" → ["run"]. */
  exceptionBases(form: string, pos: PartOfSpeech): readonly string[] {
    return this.baseForms.get(pos)!.get(form) ?? [];
  }

  /** Irregular or spelling-changed forms the exception list gives for a base form, e.g. verb "stop" → ["stopped", "stopping"]. */
  exceptionForms(base: string, pos: PartOfSpeech): readonly string[] {
    return this.inflectedForms.get(pos)!.get(base) ?? [];
  }

  /** Entries per index file, to describe what was loaded. */
  get indexSizes(): Readonly<Record<PartOfSpeech, number>> {
    return {
      noun: this.indexes.get('noun')!.entries,
      verb: this.indexes.get('verb')!.entries,
      adj: this.indexes.get('adj')!.entries,
      adv: this.indexes.get('adv')!.entries,
    };
  }

  close(): void {
    for (const fd of this.dataFiles.values()) closeSync(fd);
    this.dataFiles.clear();
  }

  /** The leading fields of a data line, reading more of the file until the synset's word list is complete. */
  private readFields(pos: PartOfSpeech, offset: number): string[] {
    const fd = this.dataFiles.get(pos);
    if (fd === undefined) throw new Error('The WordNet database is closed.');
    for (let length = 1024; ; length *= 4) {
      const buffer = Buffer.alloc(length);
      const read = readSync(fd, buffer, 0, length, offset);
      const text = buffer.toString('latin1', 0, read);
      const lineEnd = text.indexOf('\n');
      const fields = (lineEnd === -1 ? text : text.slice(0, lineEnd)).split(' ');
      const complete = fields.length > 3 && fields.length >= 4 + 2 * Number.parseInt(fields[3]!, 16);
      if (Number(fields[0]) !== offset)
        throw new Error(`The WordNet data file for ${pos}s has no synset at byte ${offset}; the files may be damaged.`);
      if (complete || lineEnd !== -1 || read < length) return fields;
    }
  }
}
