import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFailureCode } from './starterr.js';

test('a missing command is 127, naming it; anything else that fails to start is 126', () => {
  assert.equal(startFailureCode('unable to start container process: exec: "nosuch": executable file not found in $PATH', 'nosuch'), 127);
  assert.equal(startFailureCode('exec: "/nosuch": stat /nosuch: no such file or directory', '/nosuch'), 127);
  assert.equal(startFailureCode('exec: "/etc/passwd": permission denied', '/etc/passwd'), 126);
  // A missing working directory is not a missing command.
  assert.equal(startFailureCode('chdir to cwd ("/nope") set in config.json failed: no such file or directory', 'true'), 126);
  assert.equal(startFailureCode('error mounting "/x" to rootfs at "/etc/hostname": not a directory', 'sh'), 127);
});
