/**
 * A logger whose lines are held rather than written, for `mountkit run`'s first process
 * where it loads a plugin list of the caller's own only to have it check the config
 * before a relaunch (run.ts checkWithPlugins): the relaunched process loads the list
 * again and asks again, and logs the same lines. Held lines are dropped once the check
 * has passed, and written, in their order, where it fails: they come before its error.
 */
import type { Logger } from '../core/plugin';
import { linesLogger } from '../core/logger';

export interface HeldLog {
  /** The logger to give: its lines, its children's too, are held. */
  logger: Logger;
  /** Writes the held lines to the logger they were held for, each through the child it was logged by; nothing is held after. */
  flush(): void;
}

export function heldLog(target: Logger): HeldLog {
  const lines: (() => void)[] = [];
  // `to` gives the logger the lines go to when written: `target`, or a child made of it then, once.
  const holding = (to: () => Logger): Logger =>
    linesLogger(
      (level, message, meta) => void lines.push(() => to()[level](message, meta)),
      (meta) => {
        let child: Logger | undefined;
        return holding(() => (child ??= to().child(meta)));
      },
    );
  return {
    logger: holding(() => target),
    flush: () => {
      for (const write of lines.splice(0)) write();
    },
  };
}
