import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IMAGE_SAMPLE_SIZE, ImageFolderProbe } from '../../src/shared/data/imageFolderProbe';
import { readImageHeader } from '../../src/shared/data/imageHeader';
import { jpegFile, pngFile, writeImageFolder } from '../helpers/imageFolderFixture';
import { TempWorkspace } from '../helpers/tempWorkspace';

describe('image headers', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const header = (name: string, bytes: Uint8Array) => readImageHeader(workspace.write(name, bytes as unknown as string));

  it('reads the size of a PNG from its IHDR and of a JPEG from its frame header', () => {
    assert.deepEqual(header('a.png', pngFile(31, 17)), { ok: true, format: 'png', width: 31, height: 17 });
    assert.deepEqual(header('a.jpg', jpegFile(40, 9)), { ok: true, format: 'jpeg', width: 40, height: 9 });
  });

  it('finds the JPEG frame header after an EXIF segment', () => {
    const plain = jpegFile(12, 34);
    const exif = Buffer.concat([Buffer.from([0xff, 0xe1, 0x10, 0x02]), Buffer.alloc(0x1000, 7)]);
    const withExif = Buffer.concat([plain.subarray(0, 2), exif, plain.subarray(2)]);
    assert.deepEqual(header('exif.jpg', withExif), { ok: true, format: 'jpeg', width: 12, height: 34 });
  });

  it('says why an empty, truncated or foreign file is unreadable', () => {
    assert.deepEqual(header('empty.png', Buffer.alloc(0)), { ok: false, problem: 'is empty (0 bytes)' });
    const png = pngFile(30, 30);
    assert.match(String((header('cut.png', png.subarray(0, png.length - 20)) as { problem: string }).problem), /truncated PNG/);
    const jpg = jpegFile(30, 30);
    assert.match(String((header('cut.jpg', jpg.subarray(0, Math.floor(jpg.length / 2))) as { problem: string }).problem), /truncated JPEG/);
    assert.match(String((header('notes.png', Buffer.from('hello')) as { problem: string }).problem), /neither a PNG nor a JPEG/);
    const noIhdr = Buffer.concat([png.subarray(0, 8), Buffer.alloc(40)]);
    assert.match(String((header('bad.png', noIhdr) as { problem: string }).problem), /no IHDR/);
  });

  it('reports a file it cannot open instead of throwing', () => {
    const result = readImageHeader(workspace.path('absent.png'));
    assert.deepEqual(result, { ok: false, problem: 'does not exist' });
  });
});

describe('image folder probe', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('counts images per class in name order, and lists the sizes seen', () => {
    const root = writeImageFolder(workspace.path('counts/train'), { scratch: 3, dent: 2, ok: 4 }, [24, 18]);
    writeFileSync(join(root, 'ok', 'notes.txt'), 'not an image');
    writeFileSync(join(root, 'stray.png'), pngFile(5, 5));
    const summary = new ImageFolderProbe().summarize(root);
    assert.ok(summary.ok);
    assert.deepEqual(
      summary.classes.map(({ name, images }) => [name, images]),
      [
        ['dent', 2],
        ['ok', 4],
        ['scratch', 3],
      ],
    );
    assert.equal(summary.images, 9);
    assert.equal(summary.sampled, 9);
    assert.deepEqual(summary.sizes, [{ width: 24, height: 18, count: 9 }]);
    assert.equal(summary.otherFiles, 1);
    assert.equal(summary.looseImages, 1);
    assert.deepEqual(summary.unreadable, []);
  });

  it('names the unreadable files of the sample and finds an empty class', () => {
    const root = writeImageFolder(workspace.path('broken/train'), { a: 2, b: 1 });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'a', 'zero.png'), '');
    writeFileSync(join(root, 'b', 'text.jpg'), 'plain text');
    const summary = new ImageFolderProbe().summarize(root);
    assert.ok(summary.ok);
    assert.deepEqual(
      summary.classes.find((entry) => entry.name === 'empty'),
      { name: 'empty', images: 0 },
    );
    assert.deepEqual(
      summary.unreadable.map(({ file }) => file),
      ['a/zero.png', 'b/text.jpg'],
    );
  });

  it('counts images in subfolders of a class and in hidden class folders, as the trainer reads them', () => {
    const root = writeImageFolder(workspace.path('nested/train'), { cat: 1, '.hidden': 1 });
    mkdirSync(join(root, 'cat', 'day', 'noon'), { recursive: true });
    writeFileSync(join(root, 'cat', 'day', 'noon', 'deep.PNG'), pngFile(3, 3));
    const summary = new ImageFolderProbe().summarize(root);
    assert.ok(summary.ok);
    assert.deepEqual(
      summary.classes.map(({ name, images }) => [name, images]),
      [
        ['.hidden', 1],
        ['cat', 2],
      ],
    );
    assert.deepEqual(summary.sizes, [
      { width: 20, height: 16, count: 2 },
      { width: 3, height: 3, count: 1 },
    ]);
  });

  it('says a missing folder is missing and a file is not a folder', () => {
    const probe = new ImageFolderProbe();
    assert.deepEqual(probe.summarize(workspace.path('nowhere')), { ok: false, reason: 'missing', message: 'does not exist' });
    assert.deepEqual(probe.summarize(workspace.write('file.txt', 'x')), { ok: false, reason: 'unreadable', message: 'is not a folder' });
  });

  it('survives a symlink loop, a link to its parent, and a dangling link', () => {
    const root = writeImageFolder(workspace.path('links/train'), { cat: 2 });
    symlinkSync(join(root, 'loop'), join(root, 'loop'));
    symlinkSync('..', join(root, 'up'));
    symlinkSync(join(root, 'gone.png'), join(root, 'cat', 'dangling.png'));
    symlinkSync(join(root, 'cat'), join(root, 'cat', 'again'));
    const summary = new ImageFolderProbe().summarize(root);
    assert.ok(summary.ok);
    assert.deepEqual(
      summary.classes.map(({ name }) => name),
      ['cat', 'up'],
    );
    assert.equal(summary.classes[0]!.images, 2, 'a dangling link is no file');
  });

  it('reports a class folder it may not list', { skip: process.getuid?.() === 0 ? 'root reads every folder' : false }, () => {
    const root = writeImageFolder(workspace.path('denied/train'), { open: 1, closed: 1 });
    chmodSync(join(root, 'closed'), 0);
    try {
      const summary = new ImageFolderProbe().summarize(root);
      assert.ok(summary.ok);
      assert.match(summary.classes.find((entry) => entry.name === 'closed')?.problem ?? '', /EACCES/);
    } finally {
      chmodSync(join(root, 'closed'), 0o755);
    }
  });

  it('lists a folder of 30,000 images and checks only a sample of their headers, quickly', () => {
    const root = workspace.path('large/train');
    for (const name of ['x', 'y', 'z']) {
      mkdirSync(join(root, name), { recursive: true });
      for (let i = 0; i < 10_000; i++) writeFileSync(join(root, name, `${i}.png`), '');
    }
    const probe = new ImageFolderProbe();
    const started = performance.now();
    const summary = probe.summarize(root);
    const first = performance.now() - started;
    assert.ok(summary.ok);
    assert.equal(summary.images, 30_000);
    assert.equal(summary.sampled, IMAGE_SAMPLE_SIZE);
    assert.equal(summary.unreadable.length, IMAGE_SAMPLE_SIZE);
    assert.deepEqual(
      ['x', 'y', 'z'].map((name) => summary.unreadable.filter(({ file }) => file.startsWith(`${name}/`)).length >= 21),
      [true, true, true],
      'the sample spreads over the classes',
    );
    const again = performance.now();
    probe.summarize(root);
    const cached = performance.now() - again;
    assert.ok(first < 3000, `first look took ${first.toFixed(0)} ms`);
    assert.ok(cached < 100, `a cached look took ${cached.toFixed(0)} ms`);
  });

  it('counts the labels of a CSV row file and names the lines of its unreadable images', () => {
    writeImageFolder(workspace.path('rows/img'), { x: 4 });
    writeFileSync(workspace.path('rows/img/empty.png'), '');
    const csv = [
      'path,kind',
      'img/x/x_0.png,cat',
      'img/x/x_1.jpg,dog',
      'img/x/x_2.png,cat',
      'img/missing.png,cat',
      'img/empty.png,dog',
      ',cat',
    ];
    const file = workspace.write('rows/train.csv', `${csv.join('\n')}\n`);
    const summary = new ImageFolderProbe().summarizeRows(file, 'csv', { image: 'path', label: 'kind' });
    assert.ok(summary.ok);
    assert.equal(summary.rows, 5, 'a row without an image is the row checks’ to report');
    assert.deepEqual(summary.labels, [
      { name: 'cat', images: 3 },
      { name: 'dog', images: 2 },
    ]);
    assert.deepEqual(summary.unreadable, [
      { file: 'img/missing.png', line: 5, problem: 'does not exist' },
      { file: 'img/empty.png', line: 6, problem: 'is empty (0 bytes)' },
    ]);
    assert.deepEqual(summary.sizes, [{ width: 20, height: 16, count: 3 }]);
  });

  it('samples 64 rows spread over a long JSONL file, and reads no image an untrusted workspace keeps out', () => {
    const lines: string[] = [];
    for (let i = 0; i < 640; i++) lines.push(JSON.stringify({ image: i % 2 ? `/elsewhere/${i}.png` : `img/${i}.png`, label: `c${i % 3}` }));
    const file = workspace.write('long/train.jsonl', `${lines.join('\n')}\n`);
    const inside = (path: string) => path.startsWith(workspace.root);
    const summary = new ImageFolderProbe(inside).summarizeRows(file, 'jsonl', { image: 'image', label: 'label' });
    assert.ok(summary.ok);
    assert.equal(summary.rows, 640);
    assert.equal(summary.sampled, 64);
    assert.ok(
      summary.unreadable.every(({ file }) => file.startsWith('img/')),
      'no path outside the workspace is looked at',
    );
    const lineNumbers = summary.unreadable.map(({ line }) => line);
    assert.ok(lineNumbers[0]! <= 10 && lineNumbers.at(-1)! >= 600, `spread over the file: ${lineNumbers.join(',')}`);
  });

  it('sees an added image, an image added in a subfolder, and a new class on the next look', () => {
    const root = writeImageFolder(workspace.path('grow/train'), { a: 1 });
    const probe = new ImageFolderProbe();
    assert.equal((probe.summarize(root) as { images: number }).images, 1);
    writeFileSync(join(root, 'a', 'new.png'), pngFile(4, 4));
    assert.equal((probe.summarize(root) as { images: number }).images, 2);
    mkdirSync(join(root, 'a', 'deeper'));
    assert.equal((probe.summarize(root) as { images: number }).images, 2);
    writeFileSync(join(root, 'a', 'deeper', 'nested.png'), pngFile(4, 4));
    assert.equal((probe.summarize(root) as { images: number }).images, 3, 'an image added in a subfolder of a class');
    mkdirSync(join(root, 'b'));
    assert.deepEqual(
      (probe.summarize(root) as { classes: readonly { name: string }[] }).classes.map(({ name }) => name),
      ['a', 'b'],
    );
  });
});
