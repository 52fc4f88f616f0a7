import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seccompRules } from './exec.js';

test('seccomp rules: default action, architectures, one line per name, conditions with 64-bit values', () => {
  const text = seccompRules({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['swapon'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['ptrace'], action: 'SCMP_ACT_ERRNO' },
    ],
  });
  assert.equal(
    text,
    [
      'default errno:38',
      'arch x86_64',
      'arch x32',
      'rule allow read',
      'rule allow write',
      'rule allow personality 0 eq 4294967295 0',
      'rule allow clone 0 masked_eq 2114060288 0',
      'rule errno:1 swapon',
      'rule errno:1 ptrace',
      '',
    ].join('\n'),
  );
});

test('seccomp rules: an action berth-exec cannot apply is refused', () => {
  assert.throws(() => seccompRules({ defaultAction: 'SCMP_ACT_NOTIFY' as 'SCMP_ACT_ALLOW' }), /not supported/);
});
