import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { DataFileError, DataRowError } from '../../src/trainer/data/dataErrors';
import { loadImageData } from '../../src/trainer/data/imageData';
import { loadTrainingData, loadTrainingDataOfTask } from '../../src/trainer/data/loadTrainingData';
import { jpegBytes, pngBytes, writeBytes } from '../helpers/imageFiles';
import { TempWorkspace } from '../helpers/tempWorkspace';

/*
 * Image-classification data in both layouts (ImageFolder, and CSV/TSV/JSONL rows of image paths), with validation
 * from the config, from a sibling validation/ folder or from the split, and bad images under both policies.
 */

const workspace = new TempWorkspace();
after(() => workspace.dispose());
const root = workspace.root;

function image(relativePath: string, shade = 0): string {
  const path = workspace.path(relativePath);
  return writeBytes(path, /\.jpe?g$/i.test(path) ? jpegBytes(6, 5, shade) : pngBytes(6, 5, shade));
}

function config(data: EmbedTuneConfig['data']): ReturnType<typeof resolveConfig> {
  return resolveConfig({ task: 'image-classification', model: { base: 'm' }, data });
}

// An ImageFolder with a sibling validation/ folder; classes and files are read in sorted order.
image('folder/train/scratch/b.png', 1);
image('folder/train/scratch/a.JPG', 2);
image('folder/train/dent/nested/c.jpeg', 3);
image('folder/train/dent/d.png', 4);
writeBytes(workspace.path('folder/train/dent/notes.txt'), 'not an image, and not read');
image('folder/validation/dent/v1.png', 5);
image('folder/validation/scratch/v2.png', 6);
// An ImageFolder without one: validation_split holds images out.
for (let i = 0; i < 10; i++) image(`alone/train/${i % 2 ? 'ok' : 'bad'}/${i}.png`, i);

describe('the ImageFolder layout', () => {
  it('reads classes from subfolders and images (.png, .jpg, .jpeg, any case, any depth) in sorted order', async () => {
    const data = await loadImageData(config({ train: 'folder/train' }), root);
    assert.equal(data.kind, 'image-label');
    assert.deepEqual(data.labels, ['dent', 'scratch']);
    assert.deepEqual(
      data.train.map((example) => [example.label, example.image.slice(root.length), example.index]),
      [
        ['dent', '/folder/train/dent/d.png', 0],
        ['dent', '/folder/train/dent/nested/c.jpeg', 1],
        ['scratch', '/folder/train/scratch/a.JPG', 2],
        ['scratch', '/folder/train/scratch/b.png', 3],
      ],
    );
    assert.equal(data.train[0]!.source, data.train[0]!.image);
  });

  it('takes validation from the sibling validation/ folder when data.validation is unset', async () => {
    const data = await loadImageData(config({ train: 'folder/train', validation_split: 0.5 }), root);
    assert.equal(data.train.length, 4, 'nothing is held out');
    assert.deepEqual(
      data.validation.map((example) => [example.label, example.index]),
      [
        ['dent', 0],
        ['scratch', 1],
      ],
    );
    assert.equal(data.summary.validationSource, 'sibling folder');
    assert.equal(data.summary.heldOut, 0);
  });

  it('holds out validation_split of the images with training.seed when there is no validation folder', async () => {
    const first = await loadImageData(config({ train: 'alone/train', validation_split: 0.2 }), root);
    const again = await loadImageData(config({ train: 'alone/train', validation_split: 0.2 }), root);
    assert.equal(first.train.length, 8);
    assert.equal(first.validation.length, 2);
    assert.deepEqual(first.validation, again.validation);
    assert.equal(first.summary.validationSource, 'validation_split');
    assert.deepEqual(
      first.train.map((example) => example.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('follows a symbolic link to a parent folder once, without looping', async () => {
    image('looped/train/a/x.png');
    image('looped/train/b/y.png');
    symlinkSync(workspace.path('looped/train'), workspace.path('looped/train/a/loop'), 'dir');
    const data = await loadImageData(config({ train: 'looped/train', validation_split: 0 }), root);
    assert.deepEqual(
      data.train.map((example) => example.image.slice(root.length)),
      ['/looped/train/a/loop/b/y.png', '/looped/train/a/x.png', '/looped/train/b/y.png'],
    );
  });

  it('refuses a class folder without images, naming it', async () => {
    image('empty-class/train/full/x.png');
    writeBytes(workspace.path('empty-class/train/hollow/readme.md'), 'no images here');
    await assert.rejects(loadImageData(config({ train: 'empty-class/train' }), root), (error: unknown) => {
      assert.ok(error instanceof DataFileError);
      assert.match(error.message, /empty-class\/train\/hollow: class "hollow" has no \.png, \.jpg or \.jpeg images/);
      return true;
    });
  });
});

describe('rows of image paths', () => {
  image('rows/img/a.png', 1);
  image('rows/img/b.jpg', 2);
  image('rows/img/c.png', 3);
  writeBytes(
    workspace.path('rows/train.csv'),
    'file,defect\nimg/a.png,scratch\nimg/b.jpg,dent\n' + `${workspace.path('rows/img/c.png')},scratch\n`,
  );
  writeBytes(workspace.path('rows/train.tsv'), 'image\tlabel\nimg/a.png\t0\nimg/b.jpg\t1\n');
  writeBytes(workspace.path('rows/train.jsonl'), '{"image": "img/a.png", "label": 3}\n{"image": "img/c.png", "label": "7"}\n');
  writeBytes(workspace.path('rows/val.jsonl'), '{"file": "img/b.jpg", "defect": "dent"}\n');

  it('reads CSV with mapped columns, image paths relative to the data file or absolute', async () => {
    const data = await loadImageData(
      config({ train: 'rows/train.csv', validation: 'rows/val.jsonl', columns: { image: 'file', label: 'defect' } }),
      root,
    );
    assert.deepEqual(
      data.train.map((example) => [example.image, example.label, example.source]),
      [
        [workspace.path('rows/img/a.png'), 'scratch', `${workspace.path('rows/train.csv')}:2`],
        [workspace.path('rows/img/b.jpg'), 'dent', `${workspace.path('rows/train.csv')}:3`],
        [workspace.path('rows/img/c.png'), 'scratch', `${workspace.path('rows/train.csv')}:4`],
      ],
    );
    assert.deepEqual(
      data.validation.map((example) => example.label),
      ['dent'],
    );
    assert.deepEqual(data.labels, ['dent', 'scratch']);
    assert.equal(data.summary.validationSource, 'data.validation');
  });

  it('reads TSV and JSONL, keeping numeric labels as text, and sorts the labels', async () => {
    const tsv = await loadImageData(config({ train: 'rows/train.tsv', validation_split: 0 }), root);
    assert.deepEqual(
      tsv.train.map((example) => example.label),
      ['0', '1'],
    );
    const jsonl = await loadImageData(config({ train: 'rows/train.jsonl', validation_split: 0 }), root);
    assert.deepEqual(jsonl.labels, ['3', '7']);
  });

  it('names the missing column of the header', async () => {
    await assert.rejects(loadImageData(config({ train: 'rows/train.csv' }), root), /header has no column "image" for data.columns.image/);
  });
});

describe('bad images', () => {
  image('bad/img/good1.png', 1);
  image('bad/img/good2.jpg', 2);
  const truncated = pngBytes(6, 5, 9);
  writeBytes(workspace.path('bad/img/truncated.png'), truncated.subarray(0, truncated.length - 20));
  writeBytes(workspace.path('bad/img/empty.png'), '');
  writeBytes(workspace.path('bad/img/text.jpg'), 'this is a text file named .jpg\n');
  writeBytes(
    workspace.path('bad/rows.jsonl'),
    [
      { image: 'img/good1.png', label: 'a' },
      { image: 'img/truncated.png', label: 'a' },
      { image: 'img/empty.png', label: 'b' },
      { image: 'img/text.jpg', label: 'b' },
      { image: 'img/missing.png', label: 'b' },
      { image: 'img/good2.jpg', label: 'b' },
      { image: '', label: 'b' },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n'),
  );
  // The same bad files in an ImageFolder.
  image('badfolder/train/a/good1.png', 1);
  writeBytes(workspace.path('badfolder/train/a/truncated.png'), truncated.subarray(0, truncated.length - 20));
  writeBytes(workspace.path('badfolder/train/b/empty.png'), '');
  writeBytes(workspace.path('badfolder/train/b/text.jpg'), 'this is a text file named .jpg\n');
  image('badfolder/train/b/good2.jpg', 2);

  it('under on_bad_row: error, stop at the first bad image, naming the data file, its line and the image', async () => {
    await assert.rejects(loadImageData(config({ train: 'bad/rows.jsonl', on_bad_row: 'error' }), root), (error: unknown) => {
      assert.ok(error instanceof DataRowError);
      assert.equal(error.line, 2);
      assert.equal(error.reason, 'unreadable_image');
      assert.match(error.message, /bad\/rows\.jsonl:2: column "image" \(data\.columns\.image\) names an image that cannot be used/);
      assert.match(error.message, /bad\/img\/truncated\.png is a truncated PNG: its IDAT chunk needs 8 more bytes/);
      return true;
    });
  });

  it('under on_bad_row: skip, drop truncated, empty, mislabelled, missing and blank images and count them', async () => {
    const data = await loadImageData(config({ train: 'bad/rows.jsonl', on_bad_row: 'skip', validation_split: 0 }), root);
    assert.deepEqual(
      data.train.map((example) => example.image.slice(root.length)),
      ['/bad/img/good1.png', '/bad/img/good2.jpg'],
    );
    const summary = data.summary.train;
    assert.equal(summary.skipped, 5);
    assert.deepEqual(summary.skippedByReason, { unreadable_image: 4, empty_value: 1 });
    const messages = summary.firstSkipped.map((skipped) => skipped.message).join('\n');
    assert.match(messages, /rows\.jsonl:3: .*empty\.png is empty \(0 bytes\)/);
    assert.match(messages, /rows\.jsonl:4: .*text\.jpg is neither a PNG nor a JPEG/);
    assert.match(messages, /rows\.jsonl:5: .*missing\.png does not exist/);
    assert.equal(data.summary.dataset.skipped_rows, 5);
    assert.equal(data.summary.preprocess.rows_read, 7);
  });

  it('in an ImageFolder, error names the image; skip drops it and counts it', async () => {
    await assert.rejects(
      loadImageData(config({ train: 'badfolder/train', on_bad_row: 'error' }), root),
      (error: unknown) => error instanceof DataFileError && /badfolder\/train\/a\/truncated\.png: is a truncated PNG/.test(error.message),
    );
    const data = await loadImageData(config({ train: 'badfolder/train', on_bad_row: 'skip', validation_split: 0 }), root);
    assert.deepEqual(
      data.train.map((example) => example.image.slice(root.length)),
      ['/badfolder/train/a/good1.png', '/badfolder/train/b/good2.jpg'],
    );
    assert.equal(data.summary.train.skipped, 3);
    assert.deepEqual(
      data.summary.train.firstSkipped.map((skipped) => /[a-z]+\.(png|jpg)/.exec(skipped.message.slice(root.length))![0]),
      ['truncated.png', 'empty.png', 'text.jpg'],
    );
  });

  it('refuses to train when every image is bad', async () => {
    writeBytes(workspace.path('allbad/rows.csv'), 'image,label\nimg/empty.png,a\n');
    writeBytes(workspace.path('allbad/img/empty.png'), '');
    await assert.rejects(
      loadImageData(config({ train: 'allbad/rows.csv', on_bad_row: 'skip' }), root),
      /nothing to train on: all 1 images are bad/,
    );
  });
});

describe('loadTrainingDataOfTask', () => {
  it('loads image-classification data as the image-label kind, and text tasks as before', async () => {
    const images = await loadTrainingDataOfTask(config({ train: 'folder/train' }), root);
    assert.equal(images.kind, 'image-label');
    workspace.write('text/train.jsonl', '{"anchor": "a", "positive": "b"}\n{"anchor": "c", "positive": "d"}\n');
    const text = await loadTrainingDataOfTask(resolveConfig({ model: { base: 'm' }, data: { train: 'text/train.jsonl' } }), root);
    assert.equal(text.kind, 'pair');
    await assert.rejects(
      loadTrainingData(config({ train: 'folder/train' }), root),
      /image-classification data loads with loadTrainingDataOfTask/,
    );
  });
});
