/** .dockerignore matching lives in lib/ so the CLI (which sends contexts) and the builder share it. */
export { ignored, parseDockerignore, PatternMatcher, readIgnoreFile } from '../lib/dockerignore.js';
