/** One labelled image of an image-classification run. */
export interface ImageExample {
  /** Absolute path of the image file. */
  readonly image: string;
  readonly label: string;
  /** Where it came from, for messages: `file:line` of a row file, or the image's path in an ImageFolder. */
  readonly source: string;
  /**
   * Its place in its split, in file order (ImageFolder: classes sorted, then file names sorted). Augmentation draws
   * are keyed by it, so they do not depend on batch order and a resumed run replays them.
   */
  readonly index: number;
}
