/** Every top-level command of `berth`. */
import type { CommandDef } from '../command.js';
import { bootstrapDef } from './bootstrap.js';
import { buildDef } from './build.js';
import { containerGroup, containerShortcuts } from './container.js';
import { imageGroup, imageShortcuts } from './images.js';
import { inspectDef } from './inspect.js';
import { networkGroup } from './network.js';
import { registryCommands } from './registry.js';
import { registryDef } from './registryserver.js';
import { infoTopDef, systemGroup, versionDef } from './system.js';
import { volumeGroup } from './volumes.js';

export function commands(): CommandDef[] {
  return [
    ...imageShortcuts(),
    buildDef(4),
    imageGroup(),
    ...containerShortcuts(),
    containerGroup(),
    inspectDef(),
    ...registryCommands(),
    networkGroup(),
    versionDef(),
    infoTopDef(),
    systemGroup(),
    volumeGroup(),
    bootstrapDef(),
    registryDef(),
  ];
}
