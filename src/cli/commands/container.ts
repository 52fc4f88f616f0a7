/** `berth container …` and the top-level container shortcuts (run, ps, exec, …). */
import { noArgs, type CommandDef } from '../command.js';
import {
  commitDef,
  containerInspectDef,
  diffDef,
  exportDef,
  killDef,
  pauseDef,
  portDef,
  pruneDef,
  renameDef,
  restartDef,
  rmDef,
  startDef,
  stopDef,
  topDef,
  updateDef,
  waitDef,
} from './containers.js';
import { cpDef } from './cp.js';
import { eventsDef } from './events.js';
import { attachDef, execDef, logsDef } from './exec.js';
import { psDef } from './ps.js';
import { createDef, runDef } from './run.js';
import { statsDef } from './stats.js';

/** The commands both `berth X` and `berth container X` offer. */
function shared(): CommandDef[] {
  return [
    attachDef(),
    commitDef(),
    cpDef(),
    createDef(),
    diffDef(),
    execDef(),
    exportDef(),
    killDef(),
    logsDef(),
    pauseDef('pause'),
    portDef(),
    renameDef(),
    restartDef(),
    runDef(),
    startDef(),
    statsDef(),
    stopDef(),
    topDef(),
    pauseDef('unpause'),
    updateDef(),
    waitDef(),
  ];
}

/** `berth container` */
export function containerGroup(): CommandDef {
  // `top` positions only apply to the root's Common Commands
  const sub = shared().map((d) => ({ ...d, top: undefined }) as CommandDef);
  return {
    name: 'container',
    short: 'Manage containers',
    args: noArgs,
    sub: [...sub, psDef('ls', ['ps', 'list']), containerInspectDef(), pruneDef(), rmDef('rm', ['remove'])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    ),
  };
}

/** The top-level container commands. */
export function containerShortcuts(): CommandDef[] {
  return [...shared(), psDef('ps', [], 3), rmDef('rm', []), eventsDef()];
}
