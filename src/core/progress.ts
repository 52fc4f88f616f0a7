/**
 * Progress reported by long operations (load, import, pull, push, build). The
 * API edge renders these as Docker's JSON message stream; the engine stays
 * unaware of that format.
 */
export type ProgressEvent =
  /** Work on one item (a layer, a blob): `Loading layer` 1.2MB of 3.4MB. */
  | { kind: 'item'; id: string; action: string; current?: number; total?: number }
  /** A line of text for the user: `Loaded image: busybox:latest`. */
  | { kind: 'line'; text: string }
  /** A status line, about an item when `id` is given (`latest: Pulling from library/busybox`), else alone (`Digest: sha256:…`). */
  | { kind: 'status'; text: string; id?: string }
  /** Side data for clients (the build's image ID, the push's digest). */
  | { kind: 'aux'; data: Record<string, unknown> };

export type ProgressSink = (event: ProgressEvent) => void;

export const noProgress: ProgressSink = () => {};
