/** Container names: docker's validation and its adjective_surname defaults. */
import { randomInt } from 'node:crypto';
import { invalidArgument } from '../lib/errors.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Strips docker's leading slash; refuses names docker refuses, in its words. */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name.slice(1) : name;
}

const LEFT = [
  'admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever',
  'compassionate', 'competent', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant',
  'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'happy', 'hopeful', 'hungry', 'inspiring', 'intelligent', 'jolly', 'jovial', 'keen', 'kind',
  'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective',
  'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic',
  'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant',
  'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];

/** Harbour and sea words: Berth's own second halves. */
const RIGHT = [
  'anchor', 'bollard', 'buoy', 'capstan', 'cleat', 'coxswain', 'davit', 'dock', 'dory', 'fathom', 'ferry', 'galley',
  'gangway', 'halyard', 'harbor', 'hawser', 'helm', 'jetty', 'keel', 'ketch', 'lagoon', 'lantern', 'lighthouse', 'mast',
  'marina', 'mooring', 'narwhal', 'oar', 'orca', 'pier', 'pilot', 'porthole', 'quay', 'rudder', 'sail', 'schooner',
  'sextant', 'skiff', 'sloop', 'spinnaker', 'starboard', 'tide', 'tugboat', 'wharf', 'windlass', 'yawl',
];

/** A random `adjective_noun` name not yet taken. */
export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const base = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
    const name = i < 10 ? base : `${base}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
}
