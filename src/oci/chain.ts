/** Chain IDs: the identity of a stack of layers, as the OCI image spec defines it. */
import { sha256, type Digest } from '../lib/digest.js';

/** ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : sha256(`${parent} ${diffId}`));
  }
  return out;
}

export function chainId(diffIds: readonly Digest[]): Digest | null {
  return diffIds.length === 0 ? null : chainIds(diffIds)[diffIds.length - 1]!;
}

export function nextChainId(parent: Digest | null, diffId: Digest): Digest {
  return parent === null ? diffId : sha256(`${parent} ${diffId}`);
}
