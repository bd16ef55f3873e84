/** What brain-hostile-images.bench.ts and its brain child (brain-images-child.ts) share. */
export const IMAGES_LATENT_SPACE = 'bench.images/1';
export const IMAGES_LATENT_DIM = 8;

export type ToImagesChild = { type: 'stats' } | { type: 'stop' };
export type FromImagesChild =
  | { type: 'ready'; port: number }
  | { type: 'stats'; cpuUs: number; rejected: Record<string, number>; dropped: Record<string, number> };
