import { heldLog } from '../../src/cli/held-log';
import type { Logger } from '../../src/core/plugin';

/** A logger writing "LEVEL [context] message meta" lines to `out`; children add their meta to the context. */
function recording(out: string[], context: Record<string, unknown> = {}): Logger {
  const line = (level: string) => (message: string, meta?: Record<string, unknown>) => void out.push(`${level} ${JSON.stringify(context)} ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}`);
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug'), child: (meta) => recording(out, { ...context, ...meta }) };
}

describe("heldLog: the first process's plugin check before a relaunch", () => {
  test('nothing is written until flush, then every line in its order, through the child it was logged by', () => {
    const out: string[] = [];
    const held = heldLog(recording(out));
    const plugin = held.logger.child({ plugin: './own.js' });
    plugin.warn('option "old" is deprecated', { option: 'old' });
    held.logger.debug('loaded');
    plugin.child({ step: 'quota' }).error('refused');
    held.logger.info('done');
    expect(out).toEqual([]);
    held.flush();
    expect(out).toEqual([
      'warn {"plugin":"./own.js"} option "old" is deprecated {"option":"old"}',
      'debug {} loaded',
      'error {"plugin":"./own.js","step":"quota"} refused',
      'info {} done',
    ]);
  });

  test('a line is written once: a second flush writes nothing, and what comes after it waits for the next', () => {
    const out: string[] = [];
    const held = heldLog(recording(out));
    held.logger.warn('first');
    held.flush();
    held.flush();
    held.logger.warn('second');
    expect(out).toEqual(['warn {} first']);
    held.flush();
    expect(out).toEqual(['warn {} first', 'warn {} second']);
  });

  test('a child of the target is made once for all its lines, and only where one is written', () => {
    const made: Record<string, unknown>[] = [];
    const out: string[] = [];
    const target = recording(out);
    const counting: Logger = { ...target, child: (meta) => (made.push(meta), target.child(meta)) };
    const held = heldLog(counting);
    const used = held.logger.child({ plugin: 'a' });
    held.logger.child({ plugin: 'unused' });
    used.warn('one');
    used.warn('two');
    held.flush();
    expect(made).toEqual([{ plugin: 'a' }]);
    expect(out).toEqual(['warn {"plugin":"a"} one', 'warn {"plugin":"a"} two']);
  });
});
