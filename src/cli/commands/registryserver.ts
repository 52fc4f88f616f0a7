/**
 * `berth registry`: Berth's own registry server. bin/berth hands `registry`
 * to src/registry/main.ts before this CLI starts (cli/ may not import the
 * registry); this entry only lists it in `berth --help`.
 */
import { StatusError } from '../cli.js';
import { anyArgs, type CommandDef } from '../command.js';

export function registryDef(): CommandDef {
  return {
    name: 'registry',
    use: 'COMMAND',
    short: "Run Berth's own image registry (serve, gc)",
    interspersed: false,
    args: anyArgs,
    run: async () => {
      throw new StatusError('berth registry runs through bin/berth: `berth registry --help`', 1);
    },
  };
}
