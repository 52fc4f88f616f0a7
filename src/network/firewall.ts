/**
 * Address translation and filtering in one nftables table owned by berthd:
 * masquerading for networks that reach outside, DNAT for published ports
 * (from outside, from the host itself, loopback included), isolation between
 * networks, and nothing in or out of internal networks. The whole table is
 * rendered from the state and replaced in one transaction, so a rule never
 * outlives the network or container it was for, and a crash cannot leave
 * half a change.
 */
import { spawn } from 'node:child_process';
import type { PortMapping } from '../core/networks.js';
import { BerthError } from '../lib/errors.js';

export interface Runner {
  (cmd: string, args: string[], input?: string): Promise<void>;
}

/** Runs a command, failing with its stderr. */
const run: Runner = (cmd, args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new BerthError('Internal', `${cmd}: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new BerthError('Internal', `${cmd} ${args.join(' ')}: ${err.trim() || `exit status ${code}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface FirewallState {
  networks: FirewallNetwork[];
  ports: PortMapping[];
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

export function render(table: string, state: FirewallState): string {
  const bridges = state.networks.map((n) => n.bridge);
  const out: string[] = [`table ip ${table} {`];
  out.push('  chain prerouting {', '    type nat hook prerouting priority dstnat; policy accept;', '    fib daddr type local jump published', '  }');
  out.push('  chain output {', '    type nat hook output priority -100; policy accept;', '    fib daddr type local jump published', '  }');
  out.push('  chain published {');
  for (const p of state.ports) {
    const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    out.push(`    ${dst}${p.protocol} dport ${p.hostPort} dnat to ${p.ip}:${p.containerPort}`);
  }
  out.push('  }');
  out.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const n of state.networks) {
    // Published ports reached from the host's loopback, and a container reaching its own published port.
    out.push(`    oifname ${quote(n.bridge)} ip saddr 127.0.0.0/8 masquerade`);
    out.push(`    oifname ${quote(n.bridge)} ip saddr ${n.subnet} ct status dnat masquerade`);
    if (!n.internal) out.push(`    ip saddr ${n.subnet} oifname != ${quote(n.bridge)} masquerade`);
  }
  out.push('  }');
  out.push('  chain forward {', '    type filter hook forward priority filter; policy accept;');
  for (const n of state.networks) {
    const b = quote(n.bridge);
    if (n.internal) {
      out.push(`    iifname ${b} oifname != ${b} drop`, `    oifname ${b} iifname != ${b} drop`);
    } else {
      const others = bridges.filter((x) => x !== n.bridge).map(quote);
      if (others.length) out.push(`    iifname ${b} oifname { ${others.join(', ')} } drop`);
    }
  }
  out.push('  }', '}');
  return `${out.join('\n')}\n`;
}

/** Replaces the table with what the state says, atomically; no networks: no table. */
export async function apply(table: string, state: FirewallState, runner: Runner = run): Promise<void> {
  // Declaring the table first makes the delete valid when it does not exist yet.
  const head = `table ip ${table}\ndelete table ip ${table}\n`;
  await runner('nft', ['-f', '-'], state.networks.length ? head + render(table, state) : head);
}

export async function remove(table: string, runner: Runner = run): Promise<void> {
  await runner('nft', ['-f', '-'], `table ip ${table}\ndelete table ip ${table}\n`).catch(() => undefined);
}
