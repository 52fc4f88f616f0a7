/** Every top-level command of `berth`. */
import type { CommandDef } from '../command.js';
import { bootstrapDef } from './bootstrap.js';
import { containerGroup, containerShortcuts } from './container.js';
import { imageGroup, imageShortcuts } from './images.js';
import { inspectDef } from './inspect.js';
import { networkGroup } from './network.js';
import { registryDef } from './registry.js';
import { infoTopDef, systemGroup, versionDef } from './system.js';
import { volumeGroup } from './volumes.js';

export function commands(): CommandDef[] {
  return [
    ...imageShortcuts(),
    imageGroup(),
    ...containerShortcuts(),
    containerGroup(),
    inspectDef(),
    networkGroup(),
    versionDef(),
    infoTopDef(),
    systemGroup(),
    volumeGroup(),
    bootstrapDef(),
    registryDef(),
  ];
}
