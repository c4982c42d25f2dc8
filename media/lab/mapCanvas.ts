/**
 * One model's map: its points drawn on a canvas (a few rectangles per colour, never an element per point) under an
 * overlay canvas for the hovered, selected and neighbour points, so that pointing at a point never redraws 10,000.
 * A grid of screen cells finds the point under the pointer without scanning them all.
 */
export interface MapPoints {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export interface MapMarks {
  readonly hovered: number | null;
  readonly selected: number | null;
  readonly neighbours: readonly number[];
}

const POINT = 3;
/** How near (CSS pixels) the pointer must be to a point to pick it. */
const PICK_RADIUS = 6;
const CELL = 8;
const MARGIN = 10;

export class MapCanvas {
  readonly element: HTMLElement;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private points: MapPoints = { x: [], y: [] };
  /** Screen positions (CSS pixels) of the points, computed at each draw. */
  private screenX = new Float32Array(0);
  private screenY = new Float32Array(0);
  private cells = new Map<number, number[]>();
  private columns = 0;
  /** The fitted positions before zooming, and what was last drawn, so that a zoom or pan can redraw. */
  private fittedX = new Float32Array(0);
  private fittedY = new Float32Array(0);
  private size = { width: 0, height: 0 };
  private paint: { codes: readonly number[]; colours: readonly string[] } = { codes: [], colours: [] };
  private view = { scale: 1, dx: 0, dy: 0 };

  constructor(id: string) {
    this.base = document.createElement('canvas');
    this.base.className = 'map-base';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'map-overlay';
    this.element = document.createElement('div');
    this.element.className = 'map-canvas';
    this.element.id = id;
    this.element.append(this.base, this.overlay);
  }

  /** Draws every point in its category's colour; `colours[codes[i]]` is point i's. New points reset the zoom. */
  draw(points: MapPoints, codes: readonly number[], colours: readonly string[]): void {
    if (points !== this.points) this.view = { scale: 1, dx: 0, dy: 0 };
    this.points = points;
    this.paint = { codes, colours };
    this.size = this.resize();
    this.place(this.size.width, this.size.height);
    this.repaint();
  }

  /** Zooms by `factor` around a point of the canvas (CSS pixels), keeping that point where it is. */
  zoom(factor: number, px: number, py: number): void {
    const scale = Math.min(64, Math.max(1, this.view.scale * factor));
    const applied = scale / this.view.scale;
    this.view = { scale, dx: px - (px - this.view.dx) * applied, dy: py - (py - this.view.dy) * applied };
    if (scale === 1) this.view = { scale: 1, dx: 0, dy: 0 };
    this.applyView();
    this.repaint();
  }

  /** Moves the zoomed map by (dx, dy) CSS pixels. */
  pan(dx: number, dy: number): void {
    if (this.view.scale === 1) return;
    this.view = { ...this.view, dx: this.view.dx + dx, dy: this.view.dy + dy };
    this.applyView();
    this.repaint();
  }

  private repaint(): void {
    const { width, height } = this.size;
    const { codes, colours } = this.paint;
    const context = this.base.getContext('2d')!;
    context.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    context.clearRect(0, 0, width, height);
    // One path per colour: a handful of fill calls for 10,000 points.
    const byColour = colours.map(() => [] as number[]);
    codes.forEach((code, i) => byColour[code]?.push(i));
    byColour.forEach((indices, code) => {
      context.fillStyle = colours[code]!;
      context.beginPath();
      for (const i of indices) context.rect(this.screenX[i]! - POINT / 2, this.screenY[i]! - POINT / 2, POINT, POINT);
      context.fill();
    });
  }

  /** Rings the hovered and selected points and their neighbours, on the overlay only. */
  mark(marks: MapMarks, colour: string): void {
    const context = this.overlay.getContext('2d')!;
    context.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    context.clearRect(0, 0, this.overlay.width, this.overlay.height);
    context.strokeStyle = colour;
    const ring = (i: number, radius: number, width: number) => {
      if (i < 0 || i >= this.screenX.length) return;
      context.lineWidth = width;
      context.beginPath();
      context.arc(this.screenX[i]!, this.screenY[i]!, radius, 0, 2 * Math.PI);
      context.stroke();
    };
    marks.neighbours.forEach((i) => ring(i, 4, 1));
    if (marks.selected !== null) ring(marks.selected, 7, 2);
    if (marks.hovered !== null) ring(marks.hovered, 6, 1.5);
  }

  /** The point nearest to a pointer position (relative to the canvas, CSS pixels), if one is near enough. */
  pick(px: number, py: number): number | null {
    const column = Math.floor(px / CELL);
    const row = Math.floor(py / CELL);
    let best: number | null = null;
    let bestDistance = PICK_RADIUS * PICK_RADIUS;
    for (let r = row - 1; r <= row + 1; r++) {
      for (let c = column - 1; c <= column + 1; c++) {
        for (const i of this.cells.get(r * this.columns + c) ?? []) {
          const distance = (this.screenX[i]! - px) ** 2 + (this.screenY[i]! - py) ** 2;
          if (distance <= bestDistance) [best, bestDistance] = [i, distance];
        }
      }
    }
    return best;
  }

  /** Where a point is on screen (CSS pixels, relative to the canvas), for tests and the tooltip. */
  position(i: number): { x: number; y: number } {
    return { x: this.screenX[i]!, y: this.screenY[i]! };
  }

  private resize(): { width: number; height: number } {
    const width = Math.max(100, this.element.clientWidth);
    const height = Math.max(100, this.element.clientHeight);
    for (const canvas of [this.base, this.overlay]) {
      canvas.width = Math.round(width * devicePixelRatio);
      canvas.height = Math.round(height * devicePixelRatio);
    }
    return { width, height };
  }

  /** Fits the points in the canvas with one scale for both axes (a projection's distances are not stretched). */
  private place(width: number, height: number): void {
    const { x, y } = this.points;
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < x.length; i++) {
      minX = Math.min(minX, x[i]!);
      maxX = Math.max(maxX, x[i]!);
      minY = Math.min(minY, y[i]!);
      maxY = Math.max(maxY, y[i]!);
    }
    const scale = Math.min((width - 2 * MARGIN) / (maxX - minX || 1), (height - 2 * MARGIN) / (maxY - minY || 1));
    const offsetX = (width - scale * (maxX - minX)) / 2;
    const offsetY = (height - scale * (maxY - minY)) / 2;
    this.fittedX = Float32Array.from(x, (value) => offsetX + scale * (value - minX));
    // Screen y grows downwards; the projection's grows upwards.
    this.fittedY = Float32Array.from(y, (value) => height - offsetY - scale * (value - minY));
    this.columns = Math.ceil(width / CELL) + 2;
    this.applyView();
  }

  /** Screen positions under the zoom, and the hit-test grid of those on screen. */
  private applyView(): void {
    const { scale, dx, dy } = this.view;
    const { width, height } = this.size;
    this.screenX = this.fittedX.map((value) => value * scale + dx);
    this.screenY = this.fittedY.map((value) => value * scale + dy);
    this.cells = new Map();
    for (let i = 0; i < this.screenX.length; i++) {
      if (this.screenX[i]! < -CELL || this.screenX[i]! > width + CELL || this.screenY[i]! < -CELL || this.screenY[i]! > height + CELL)
        continue;
      const key = Math.floor(this.screenY[i]! / CELL) * this.columns + Math.floor(this.screenX[i]! / CELL);
      const cell = this.cells.get(key);
      if (cell) cell.push(i);
      else this.cells.set(key, [i]);
    }
  }
}
