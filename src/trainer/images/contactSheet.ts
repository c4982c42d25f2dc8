import { PNG } from 'pngjs';
import { pilResize } from './pilResample';
import { drawText, GLYPH_HEIGHT } from './pixelFont';
import type { RgbImage } from './rgbImage';

/**
 * A contact sheet: a grid of equally sized tiles, one row per image and one column per stage (original, cleaned,
 * augmented copies), written as an RGB PNG with pngjs. Each picture is scaled to fit its tile with its aspect ratio
 * kept and centered on the tile's background, so a wide original and its square crop read side by side. With
 * titles, a strip above the grid names the columns and a strip above each row names its image (pixelFont, no font
 * dependency).
 */

export interface ContactSheetLayout {
  /** Edge of a square tile, in pixels. */
  readonly tile: number;
  /** Pixels between tiles and around the grid. */
  readonly gap: number;
  readonly rows: number;
  readonly columns: number;
  /** Height of the title strip above the grid and above each row; 0 without titles. */
  readonly label: number;
}

export interface ContactSheetOptions {
  readonly tile?: number;
  readonly gap?: number;
  /** One per column, drawn above the grid. */
  readonly columnTitles?: readonly string[];
  /** One per row, drawn above its tiles. */
  readonly rowTitles?: readonly string[];
}

export const DEFAULT_TILE = 128;
export const DEFAULT_GAP = 4;

const BACKGROUND = [32, 32, 32] as const;
const TILE_BACKGROUND = [64, 64, 64] as const;
const TEXT = [230, 230, 230] as const;
const TEXT_SCALE = 2;
const LABEL_HEIGHT = GLYPH_HEIGHT * TEXT_SCALE + 4;

/** Width and height of a sheet with this layout. */
export function sheetSize(layout: ContactSheetLayout): { width: number; height: number } {
  return {
    width: layout.columns * layout.tile + (layout.columns + 1) * layout.gap,
    height: layout.gap + layout.label + layout.rows * (layout.label + layout.tile + layout.gap),
  };
}

/** The top-left pixel of a tile. */
export function tileOrigin(layout: ContactSheetLayout, row: number, column: number): { x: number; y: number } {
  return {
    x: layout.gap + column * (layout.tile + layout.gap),
    y: layout.gap + layout.label + row * (layout.label + layout.tile + layout.gap) + layout.label,
  };
}

/**
 * The sheet as PNG bytes. `rows[r][c]` is the picture of tile (r, c); a missing one (fewer augmented copies, or an
 * image that could not be read) leaves its tile blank.
 */
export function encodeContactSheet(
  rows: readonly (readonly (RgbImage | undefined)[])[],
  options: ContactSheetOptions = {},
): { png: Buffer; layout: ContactSheetLayout } {
  const titled = options.columnTitles !== undefined || options.rowTitles !== undefined;
  const layout: ContactSheetLayout = {
    tile: options.tile ?? DEFAULT_TILE,
    gap: options.gap ?? DEFAULT_GAP,
    rows: rows.length,
    columns: Math.max(0, ...rows.map((row) => row.length)),
    label: titled ? LABEL_HEIGHT : 0,
  };
  if (layout.rows === 0 || layout.columns === 0) throw new Error('A contact sheet needs at least one image.');
  const { width, height } = sheetSize(layout);
  // pngjs holds RGBA; writing colorType 2 drops the (opaque) alpha byte.
  const png = new PNG({ width, height });
  fill(png.data, 0, 0, width, height, width, BACKGROUND);
  rows.forEach((row, r) =>
    row.forEach((picture, c) => {
      const origin = tileOrigin(layout, r, c);
      fill(png.data, origin.x, origin.y, layout.tile, layout.tile, width, TILE_BACKGROUND);
      if (!picture) return;
      const fitted = fitToTile(picture, layout.tile);
      const centered = {
        x: origin.x + Math.floor((layout.tile - fitted.width) / 2),
        y: origin.y + Math.floor((layout.tile - fitted.height) / 2),
      };
      paste(png.data, width, fitted, centered);
    }),
  );
  if (titled) drawTitles(png.data, width, layout, options);
  return { png: PNG.sync.write(png, { colorType: 2 }), layout };
}

function drawTitles(rgba: Buffer, width: number, layout: ContactSheetLayout, options: ContactSheetOptions): void {
  const text = { scale: TEXT_SCALE, color: TEXT };
  options.columnTitles?.slice(0, layout.columns).forEach((title, column) => {
    const { x } = tileOrigin(layout, 0, column);
    drawText(rgba, width, title, { x, y: layout.gap + 2 }, { ...text, maxWidth: layout.tile });
  });
  options.rowTitles?.slice(0, layout.rows).forEach((title, row) => {
    const { y } = tileOrigin(layout, row, 0);
    drawText(rgba, width, title, { x: layout.gap, y: y - layout.label + 2 }, { ...text, maxWidth: width - 2 * layout.gap });
  });
}

/** The picture scaled up or down to fill the tile along its longer edge, aspect ratio kept. */
function fitToTile(picture: RgbImage, tile: number): RgbImage {
  const scale = Math.min(tile / picture.width, tile / picture.height);
  const width = Math.max(1, Math.min(tile, Math.round(picture.width * scale)));
  const height = Math.max(1, Math.min(tile, Math.round(picture.height * scale)));
  if (width === picture.width && height === picture.height) return picture;
  return pilResize(picture, width, height, 'bilinear');
}

function paste(rgba: Buffer, sheetWidth: number, picture: RgbImage, at: { x: number; y: number }): void {
  for (let y = 0; y < picture.height; y++) {
    for (let x = 0; x < picture.width; x++) {
      const from = (y * picture.width + x) * 3;
      const to = ((at.y + y) * sheetWidth + at.x + x) * 4;
      rgba[to] = picture.data[from]!;
      rgba[to + 1] = picture.data[from + 1]!;
      rgba[to + 2] = picture.data[from + 2]!;
      rgba[to + 3] = 255;
    }
  }
}

function fill(
  rgba: Buffer,
  left: number,
  top: number,
  width: number,
  height: number,
  sheetWidth: number,
  color: readonly [number, number, number],
): void {
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) {
      const to = (y * sheetWidth + x) * 4;
      rgba[to] = color[0];
      rgba[to + 1] = color[1];
      rgba[to + 2] = color[2];
      rgba[to + 3] = 255;
    }
  }
}
