/**
 * `events` / `system events` (docker's cli/command/system/events.go): the
 * daemon's event stream, one line per event —
 * `2026-11-24T10:00:00.000000000Z container start abc… (image=busybox, name=x)`
 * — or through a Go template (`json` for `{{json .}}`).
 */
import { decodeEvents, type EventMessage, formatEvent } from '../../client/index.js';
import { goJSON } from '../../lib/gofmt.js';
import { PROG, StatusError } from '../cli.js';
import { noArgs, type CommandDef, type RunContext } from '../command.js';
import { compileTemplate, GO_STRUCT, type Template } from '../template.js';
import { getTimestamp } from '../util/timestamp.js';
import { diesOfSigpipe, writeOutput } from '../attach.js';
import { checkFilters, filterFlag, INSPECT_FORMAT_HELP, parseFilters } from './common.js';

const TIME_NANO_MARK = '__berth_time_nano__';

/** events.Actor as templates see it. */
class Actor {
  ID: string;
  Attributes: Record<string, string> | null;
  constructor(a: EventMessage['Actor'] | undefined) {
    this.ID = a?.ID ?? '';
    this.Attributes = a?.Attributes ?? null;
    Object.defineProperty(this, GO_STRUCT, { value: true, enumerable: false });
  }
}
Object.defineProperty(Actor, 'name', { value: 'events.Actor' });

/** events.Message as templates see it: Go field names; `{{json .}}` gives the wire form. */
export class EventView {
  Status: string;
  ID: string;
  From: string;
  Type: string;
  Action: string;
  Actor: Actor;
  Scope: string;
  Time: bigint;
  TimeNano: bigint;

  constructor(e: Partial<EventMessage>, timeNano: bigint) {
    this.Status = e.status ?? '';
    this.ID = e.id ?? '';
    this.From = e.from ?? '';
    this.Type = e.Type ?? '';
    this.Action = e.Action ?? '';
    this.Actor = new Actor(e.Actor);
    this.Scope = (e.scope as string | undefined) ?? '';
    this.Time = BigInt(Math.trunc(e.time ?? 0));
    this.TimeNano = timeNano;
    Object.defineProperty(this, GO_STRUCT, { value: true, enumerable: false });
  }

  /** encoding/json of events.Message (omitempty fields dropped, map keys sorted). */
  toJSONText(): string {
    const o: Record<string, unknown> = {};
    if (this.Status) o['status'] = this.Status;
    if (this.ID) o['id'] = this.ID;
    if (this.From) o['from'] = this.From;
    o['Type'] = this.Type;
    o['Action'] = this.Action;
    let attrs: Record<string, string> | null = null;
    if (this.Actor.Attributes) {
      attrs = {};
      for (const k of Object.keys(this.Actor.Attributes).sort()) attrs[k] = this.Actor.Attributes[k]!;
    }
    o['Actor'] = { ID: this.Actor.ID, Attributes: attrs };
    if (this.Scope) o['scope'] = this.Scope;
    if (this.Time !== 0n) o['time'] = Number(this.Time);
    if (this.TimeNano !== 0n) o['timeNano'] = TIME_NANO_MARK;
    return goJSON(o).replace(`"${TIME_NANO_MARK}"`, this.TimeNano.toString());
  }
}
Object.defineProperty(EventView, 'name', { value: '*events.Message' });

/** The `json` template function, writing events exactly. */
const eventFuncs = {
  json: (v: unknown) => (v instanceof EventView ? v.toJSONText() : goJSON(v)),
};

/** makeTemplate: `json` → `{{json .}}`; the template must run on an empty event. */
function makeTemplate(format: string): Template | undefined {
  if (format === '') return undefined;
  const text = format === 'json' ? '{{json .}}' : format;
  const bad = (e: unknown) => new StatusError(`Error parsing format: ${(e as Error).message.replace(/^template parsing error: /, '')}`, 64);
  let t: Template;
  try {
    t = compileTemplate(text, eventFuncs);
  } catch (e) {
    throw bad(e);
  }
  try {
    t.execute(new EventView({}, 0n));
  } catch (e) {
    throw bad(e);
  }
  return t;
}

async function runEvents(ctx: RunContext): Promise<void> {
  const { cli, flags } = ctx;
  const tmpl = makeTemplate(flags['format'] as string);
  const now = new Date();
  const opts: { since?: string; until?: string; filters?: Record<string, string[]> } = { filters: parseFilters(flags['filter'] as string[]) };
  try {
    if (flags['since']) opts.since = getTimestamp(flags['since'] as string, now);
    if (flags['until']) opts.until = getTimestamp(flags['until'] as string, now);
  } catch (e) {
    throw new StatusError((e as Error).message, 1);
  }
  const body = await cli.client().events(opts);
  try {
    for await (const { event, timeNano } of decodeEvents(body)) {
      if (!tmpl) {
        await writeOutput(cli.out, Buffer.from(formatEvent(event, timeNano)));
        continue;
      }
      let line = '';
      try {
        line = tmpl.execute(new EventView(event, timeNano));
      } finally {
        await writeOutput(cli.out, Buffer.from(line + '\n'));
      }
    }
  } finally {
    body.destroy();
  }
}

export function eventsDef(): CommandDef {
  return {
    name: 'events',
    use: '[OPTIONS]',
    short: 'Get real time events from the server',
    aliasesLine: `${PROG} system events, ${PROG} events`,
    args: noArgs,
    flags: [
      { name: 'since', type: 'string', usage: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', usage: 'Stream events until this timestamp' },
      filterFlag(),
      { name: 'format', type: 'string', usage: INSPECT_FORMAT_HELP },
    ],
    check: (f) => checkFilters(f),
    run: (ctx) => diesOfSigpipe(runEvents(ctx)),
  };
}
