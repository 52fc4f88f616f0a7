/**
 * A small router: Docker's paths carry names with slashes (`/images/{name}/json`
 * where name is `localhost:5000/a/b:tag`), so patterns compile to anchored
 * regular expressions where `{name*}` may span segments.
 */
import type { Ctx } from './context.js';

export type Handler = (ctx: Ctx) => Promise<void> | void;

interface Route {
  method: string;
  re: RegExp;
  keys: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const source = pattern
      .split(/(\{[a-zA-Z]+\*?\})/)
      .map((part) => {
        const m = /^\{([a-zA-Z]+)(\*?)\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        keys.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('');
    this.routes.push({ method, re: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  get = (p: string, h: Handler) => this.add('GET', p, h);
  post = (p: string, h: Handler) => this.add('POST', p, h);
  put = (p: string, h: Handler) => this.add('PUT', p, h);
  delete = (p: string, h: Handler) => this.add('DELETE', p, h);
  head = (p: string, h: Handler) => this.add('HEAD', p, h);

  /** The handler and path parameters for a request, or a reason it has none. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'not-found' | 'bad-method' {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]!);
      });
      return { handler: r.handler, params };
    }
    return pathMatched ? 'bad-method' : 'not-found';
  }
}
