/** In-memory dataset split: uint8 28x28 images (row-major, n*784) and labels 0..9. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const NUM_CLASSES = 10;

export const CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
