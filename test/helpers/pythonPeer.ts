/**
 * The Python that tests compare against (safetensors, tokenizers, transformers, scipy, scikit-learn, seqeval).
 * `.ci/run` creates a virtualenv with pinned versions and points EMBEDTUNE_TEST_PYTHON at it; elsewhere tests try
 * `python3` and skip with a printed reason when it lacks a package.
 */
export const TEST_PYTHON = process.env['EMBEDTUNE_TEST_PYTHON'] ?? 'python3';
