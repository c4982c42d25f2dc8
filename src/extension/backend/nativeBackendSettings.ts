import type { EditorHost } from '../host/editorHost';

/**
 * The variables through which the trainer learns where the native backend is (the trainer's nativeBackendCache.ts
 * reads them; the extension may not import trainer code, and a unit test keeps the two names equal).
 */
export const NATIVE_BACKEND_VARIABLE = 'EMBEDTUNE_NATIVE_BACKEND';
export const NATIVE_CACHE_VARIABLE = 'EMBEDTUNE_NATIVE_BACKENDS_DIR';

/**
 * The settings `embedtune.nativeBackend.path` (another install, used first) and `embedtune.nativeBackend.cacheDir`
 * (where `backend install` puts installs and the trainer looks for them), as engine environment variables. Read at
 * each engine start, so a change applies to the next run without a reload. Empty settings leave the variables as the
 * editor's environment has them.
 */
export function nativeBackendEnvironment(host: EditorHost): Record<string, string> {
  return {
    [NATIVE_BACKEND_VARIABLE]: host.setting('nativeBackend.path', '').trim(),
    [NATIVE_CACHE_VARIABLE]: host.setting('nativeBackend.cacheDir', '').trim(),
  };
}
