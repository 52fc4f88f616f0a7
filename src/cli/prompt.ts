/** docker's yes/no prompt: `<message> [y/N] `, one line from stdin, only y/Y confirms. */
import type { CLI } from './cli.js';

/** Reads one line from a stream (without the newline); undefined at EOF with nothing read. */
export function readLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        done();
        // give back what followed the line
        const rest = buf.slice(nl + 1);
        if (rest !== '') stream.unshift(Buffer.from(rest));
        resolve(buf.slice(0, nl).replace(/\r$/, ''));
      }
    };
    const onEnd = () => {
      done();
      resolve(buf === '' ? undefined : buf);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.pause();
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}

export async function confirm(cli: CLI, message = 'Are you sure you want to proceed?'): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  const answer = await readLine(cli.in.stream);
  return (answer ?? '').trim().toLowerCase() === 'y';
}
