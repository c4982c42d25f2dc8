import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { locateModel, ModelNotFoundError, type LocatedModel } from '../../src/trainer/model/modelLocator';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

const offline = { allowRemote: false };
/** An environment whose home is a fresh temp folder, so the real ~/.cache never takes part. */
function isolatedEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const home = workspace.path(`homes/${name}`);
  mkdirSync(home, { recursive: true });
  return { HOME: home, ...extra };
}

/** A snapshot in the Hugging Face cache layout: models--org--name/snapshots/<revision>/, with a complete tiny model unless `partial`. */
function cachedSnapshot(cache: string, id: string, revision: string, partial = false): string {
  const folder = join(cache, `models--${id.replace('/', '--')}`, 'snapshots', revision);
  if (partial) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), '{"model_type": "bert"}');
  } else buildTinyBert(folder);
  return folder;
}

function setRefMain(cache: string, id: string, revision: string): void {
  const refs = join(cache, `models--${id.replace('/', '--')}`, 'refs');
  mkdirSync(refs, { recursive: true });
  writeFileSync(join(refs, 'main'), `${revision}\n`);
}

describe('a local model folder', () => {
  it('is found relative to the config file’s folder', async () => {
    buildTinyBert(workspace.path('project/models/tiny'));
    const found = await locateModel('models/tiny', offline, { baseDir: workspace.path('project'), env: isolatedEnv('local') });
    assert.deepEqual(found, {
      folder: workspace.path('project/models/tiny'),
      rootFolder: workspace.path('project/models/tiny'),
      source: 'local',
    });
  });

  it('resolves a sentence-transformers folder whose transformer sits in 0_Transformer', async () => {
    const root = workspace.path('st-old');
    buildTinyBert(join(root, '0_Transformer'));
    writeFileSync(
      join(root, 'modules.json'),
      JSON.stringify([
        { idx: 0, name: '0', path: '0_Transformer', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ]),
    );
    const found = await locateModel(root, offline, { baseDir: '/', env: isolatedEnv('st-old') });
    assert.deepEqual(found, { folder: join(root, '0_Transformer'), rootFolder: root, source: 'local' });
  });

  it('uses the folder itself when modules.json puts the transformer at path ""', async () => {
    const root = workspace.path('st-new');
    buildTinyBert(root, { withPoolingModules: true });
    const found = await locateModel(root, offline, { baseDir: '/', env: isolatedEnv('st-new') });
    assert.deepEqual(found, { folder: root, rootFolder: root, source: 'local' });
  });

  it('says what is wrong with a folder that is not a model', async () => {
    workspace.write('not-a-model/readme.txt', 'hi');
    await assert.rejects(
      locateModel('not-a-model', offline, { baseDir: workspace.root, env: isolatedEnv('nam') }),
      /is the folder .*not-a-model, but it has no config\.json/,
    );
  });

  it('says a path that does not exist is neither a folder nor a model id', async () => {
    await assert.rejects(
      locateModel('./models/missing', offline, { baseDir: workspace.root, env: isolatedEnv('missing') }),
      (error: Error) =>
        error instanceof ModelNotFoundError &&
        /is not a folder \(looked for .*models\/missing\) and not a Hugging Face model id/.test(error.message),
    );
  });
});

describe('the Hugging Face cache', () => {
  it('follows refs/main to its snapshot in HF_HUB_CACHE', async () => {
    const cache = workspace.path('hub-cache');
    cachedSnapshot(cache, 'org/tiny', 'aaaa1111');
    const main = cachedSnapshot(cache, 'org/tiny', 'bbbb2222');
    // The older revision is touched last, so only refs/main can make the right choice.
    utimesSync(join(cache, 'models--org--tiny/snapshots/aaaa1111'), new Date(), new Date(Date.now() + 60_000));
    setRefMain(cache, 'org/tiny', 'bbbb2222');
    const found = await locateModel('org/tiny', offline, { baseDir: workspace.root, env: isolatedEnv('refs', { HF_HUB_CACHE: cache }) });
    assert.deepEqual(found, { folder: main, rootFolder: main, source: 'hf-cache' });
  });

  it('falls back to the newest complete snapshot when refs/main is missing or names a partial one', async () => {
    const cache = workspace.path('hub-cache-fallback');
    const older = cachedSnapshot(cache, 'org/tiny', 'old');
    const newer = cachedSnapshot(cache, 'org/tiny', 'new');
    utimesSync(older, new Date(), new Date(Date.now() - 60_000));
    const context = { baseDir: workspace.root, env: isolatedEnv('fallback', { HF_HUB_CACHE: cache }) };
    assert.equal((await locateModel('org/tiny', offline, context)).folder, newer);
    cachedSnapshot(cache, 'org/tiny', 'partial', true);
    setRefMain(cache, 'org/tiny', 'partial');
    assert.equal((await locateModel('org/tiny', offline, context)).folder, newer);
  });

  it('looks in $HF_HOME/hub, then ~/.cache/huggingface/hub', async () => {
    const hfHome = workspace.path('hf-home');
    const inHfHome = cachedSnapshot(join(hfHome, 'hub'), 'org/home-model', 'r1');
    assert.equal(
      (await locateModel('org/home-model', offline, { baseDir: workspace.root, env: isolatedEnv('hfhome', { HF_HOME: hfHome }) })).folder,
      inHfHome,
    );

    const env = isolatedEnv('dotcache');
    const inDotCache = cachedSnapshot(join(env['HOME']!, '.cache/huggingface/hub'), 'org/dot-model', 'r1');
    assert.equal((await locateModel('org/dot-model', offline, { baseDir: workspace.root, env })).folder, inDotCache);
  });

  it('searches settings.cacheDir before the default cache', async () => {
    const custom = workspace.path('custom-cache');
    const preferred = cachedSnapshot(custom, 'org/both', 'custom');
    const env = isolatedEnv('custom', { HF_HUB_CACHE: workspace.path('default-cache') });
    cachedSnapshot(env['HF_HUB_CACHE']!, 'org/both', 'default');
    const found = await locateModel('org/both', { allowRemote: false, cacheDir: custom }, { baseDir: workspace.root, env });
    assert.equal(found.folder, preferred);
  });

  it('reads a bare name as a sentence-transformers model, as sentence-transformers does', async () => {
    const cache = workspace.path('bare-cache');
    const snapshot = cachedSnapshot(cache, 'sentence-transformers/all-MiniLM-L6-v2', 'rev');
    const found = await locateModel('all-MiniLM-L6-v2', offline, {
      baseDir: workspace.root,
      env: isolatedEnv('bare', { HF_HUB_CACHE: cache }),
    });
    assert.equal(found.folder, snapshot);
  });
});

describe('the legacy sentence-transformers cache', () => {
  it('finds ~/.cache/torch/sentence_transformers/org_name', async () => {
    const env = isolatedEnv('stcache');
    const folder = join(env['HOME']!, '.cache/torch/sentence_transformers/sentence-transformers_all-MiniLM-L6-v2');
    buildTinyBert(folder, { withPoolingModules: true });
    const found = await locateModel('sentence-transformers/all-MiniLM-L6-v2', offline, { baseDir: workspace.root, env });
    assert.deepEqual(found, { folder, rootFolder: folder, source: 'st-cache' });
  });
});

describe('a model that is nowhere on this machine', () => {
  it('names the model, every place searched, the setting that blocked the download and how to fix it', async () => {
    const env = isolatedEnv('nowhere', { HF_HUB_CACHE: workspace.path('empty-cache') });
    const partial = cachedSnapshot(env['HF_HUB_CACHE']!, 'org/missing', 'half', true);
    const error = (await locateModel('org/missing', offline, { baseDir: workspace.path('project'), env }).catch(
      (e: unknown) => e,
    )) as ModelNotFoundError;
    assert.ok(error instanceof ModelNotFoundError);
    assert.equal(error.modelId, 'org/missing');
    assert.match(error.message, /^Model "org\/missing" is not on this machine, and downloading is turned off \(allowRemote is false\)\./);
    assert.deepEqual(error.searched, [
      `${workspace.path('project/org/missing')} (no such folder)`,
      `Hugging Face cache: ${partial} (no model.safetensors in it)`,
      `sentence-transformers cache: ${join(env['HOME']!, '.cache/torch/sentence_transformers/org_missing')} (no such folder)`,
    ]);
    for (const place of error.searched) assert.ok(error.message.includes(`  - ${place}`), place);
    assert.match(error.message, /huggingface-cli download org\/missing --local-dir <folder>/);
    assert.match(error.message, /point model\.base at it/);
  });

  it('lists the Hugging Face cache folder as not there when nothing of the model is cached', async () => {
    const env = isolatedEnv('nothing');
    const error = (await locateModel('org/none', offline, { baseDir: workspace.root, env }).catch((e: unknown) => e)) as ModelNotFoundError;
    assert.ok(
      error.searched.includes(`Hugging Face cache: ${join(env['HOME']!, '.cache/huggingface/hub/models--org--none')} (not there)`),
      error.message,
    );
  });

  it('does not try the network when HF_HUB_OFFLINE is set', async () => {
    const env = isolatedEnv('hfoffline', { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9' });
    await assert.rejects(
      locateModel('org/none', { allowRemote: true }, { baseDir: workspace.root, env }),
      /downloading is turned off by HF_HUB_OFFLINE=1\./,
    );
  });

  it('reports why the download failed when there is no network', async () => {
    const port = await closedPort();
    const env = isolatedEnv('nonet', { HF_ENDPOINT: `http://127.0.0.1:${port}` });
    const error = (await locateModel('org/none', { allowRemote: true }, { baseDir: workspace.root, env }).catch(
      (e: unknown) => e,
    )) as ModelNotFoundError;
    assert.ok(error instanceof ModelNotFoundError);
    assert.match(error.message, new RegExp(`downloading it from http://127\\.0\\.0\\.1:${port} failed: fetch failed`));
    assert.match(error.message, /Looked in:\n {2}- /);
  });
});

describe('downloading from a server that speaks the hub protocol', () => {
  it('fetches only the files the trainer needs into the cache layout, then finds them there offline', async () => {
    const repoFolder = workspace.path('served');
    buildTinyBert(repoFolder, { withPoolingModules: true });
    mkdirSync(join(repoFolder, 'onnx'), { recursive: true });
    writeFileSync(join(repoFolder, 'onnx/model.onnx'), 'onnx bytes');
    writeFileSync(join(repoFolder, 'pytorch_model.bin'), 'pickle bytes');
    const sha = 'c0ffee'.padEnd(40, '0');
    const hub = await serveRepo('org/served', sha, repoFolder);
    const cache = workspace.path('download-cache');
    const env = isolatedEnv('download', { HF_ENDPOINT: hub.url });
    let found: LocatedModel;
    try {
      found = await locateModel('org/served', { allowRemote: true, cacheDir: cache }, { baseDir: workspace.root, env });
    } finally {
      await hub.close();
    }
    const snapshot = join(cache, 'models--org--served', 'snapshots', sha);
    assert.deepEqual(found, { folder: snapshot, rootFolder: snapshot, source: 'downloaded' });
    assert.equal(readFileSync(join(cache, 'models--org--served/refs/main'), 'utf8'), sha);
    assert.deepEqual(filesUnder(snapshot), [
      '1_Pooling/config.json',
      'config.json',
      'config_sentence_transformers.json',
      'model.safetensors',
      'modules.json',
      'sentence_bert_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    assert.deepEqual(readFileSync(join(snapshot, 'model.safetensors')), readFileSync(join(repoFolder, 'model.safetensors')));

    const again = await locateModel('org/served', { allowRemote: true, cacheDir: cache }, { baseDir: workspace.root, env });
    assert.equal(again.source, 'hf-cache', 'the second run needs no network');
  });
});

function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(folder, path));
    }
  };
  walk(folder);
  return out.sort();
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Serves `folder` as model `id` at commit `sha` through the endpoints @huggingface/hub calls: model info, the
 * recursive tree, paths-info, and ranged `resolve` downloads with an ETag.
 */
async function serveRepo(id: string, sha: string, folder: string): Promise<{ url: string; close: () => Promise<void> }> {
  const files = filesUnder(folder);
  const etag = (path: string): string =>
    createHash('sha1')
      .update(readFileSync(join(folder, path)))
      .digest('hex');
  const describe = (path: string) => ({ type: 'file', path, size: statSync(join(folder, path)).size, oid: etag(path) });
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://hub');
    const json = (value: unknown): void => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    if (url.pathname === `/api/models/${id}/revision/HEAD`)
      return json({ _id: 'x', id, sha, private: false, downloads: 0, likes: 0, lastModified: '2024-01-01T00:00:00Z' });
    if (url.pathname === `/api/models/${id}/tree/${sha}`) return json(files.map(describe));
    if (url.pathname === `/api/models/${id}/paths-info/${sha}`) {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => json((JSON.parse(body) as { paths: string[] }).paths.map(describe)));
      return undefined;
    }
    const prefix = `/${id}/resolve/${sha}/`;
    if (url.pathname.startsWith(prefix)) {
      const path = decodeURIComponent(url.pathname.slice(prefix.length));
      if (!files.includes(path)) {
        response.writeHead(404, { 'X-Error-Code': 'EntryNotFound' });
        return response.end();
      }
      const bytes = readFileSync(join(folder, path));
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (!range) {
        response.writeHead(200, { ETag: `"${etag(path)}"`, 'Content-Length': bytes.length });
        return response.end(bytes);
      }
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      response.writeHead(206, {
        ETag: `"${etag(path)}"`,
        'Content-Range': `bytes ${start}-${end}/${bytes.length}`,
        'Content-Length': end - start + 1,
      });
      return response.end(bytes.subarray(start, end + 1));
    }
    response.writeHead(404);
    response.end();
    return undefined;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
