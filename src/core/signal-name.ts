/**
 * A signal's name by its number (signal(7)), for the numbers Node's os.constants.signals
 * has: the standard signals of this platform, none of the real-time ones.
 */
import { constants } from 'os';

export function signalName(signum: number): string | undefined {
  return Object.entries(constants.signals).find(([, n]) => n === signum)?.[0];
}
