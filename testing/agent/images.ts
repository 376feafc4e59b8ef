// Test support: the locally built images the containerd tests run (nothing can be pulled here),
// written with manifests/images' OCI layout writer and imported with ctr.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBusybox, buildPause } from '../../manifests/images/build.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from '../../manifests/images/refs.js';
import type { TestContainerd } from './containerd.js';

export { BUSYBOX_IMAGE, PAUSE_IMAGE };

let built: { pause: string; busybox: string; dir: string } | undefined;

/** Builds the pause and busybox image tars once per process. */
export function testImageTars(): { pause: string; busybox: string } {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-images-'));
  built = { pause: buildPause(dir).file, busybox: buildBusybox(dir).file, dir };
  return built;
}

/** Removes the tars (containerd keeps its own copy once imported). */
export function removeTestImageTars(): void {
  if (built) fs.rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}

export async function importTestImages(ctrd: TestContainerd): Promise<void> {
  const tars = testImageTars();
  await ctrd.importImage(tars.pause);
  await ctrd.importImage(tars.busybox);
  removeTestImageTars();
}
