/**
 * Command-line parsing: pure, table-tested. `mountkit [global options] COMMAND [options]`.
 */
import { ConfigError } from '../core/errors';
import { containerIdProblem } from '../core/hooks';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../core/logger';
import { descriptorCount } from '../core/passed-fds';

export interface CliOptions {
  command: string | undefined;
  help: boolean;
  version: boolean;
  bundle: string;
  plugins?: string;
  noPivot: boolean;
  /** Keep mountkit's session keyring rather than join one of the container's own (runc's --no-new-keyring). */
  noNewKeyring: boolean;
  /** Descriptors after the listening ones passed to the container at the same numbers (runc's --preserve-fds). */
  preserveFds: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  log?: string;
  format: 'text' | 'json';
  /** `plan` lists the calls that only read (QUERY_SYSCALLS) too. */
  queries: boolean;
  /** `plan` plans runPipeline in a process already in the bundle's namespaces (an embedder's), not `run` with its launcher. */
  embedded: boolean;
  /** Where `run` keeps built seccomp programs, or 'off'. */
  seccompCache: string;
  /** The unix socket a container with process.terminal sends its console to. */
  consoleSocket?: string;
  /** Where `run` writes the container's pid (runc's --pid-file; core/pid-file.ts). */
  pidFile?: string;
  /** The container's id, the word after `run` or `plan` (runc's `run <container-id>`); absent, the bundle directory's name. */
  containerId?: string;
}

/** The commands that take a container id after them. */
const TAKES_ID: readonly string[] = ['run', 'plan'];

/** mountkit's commands: after any other word nothing more is read, and main() names it as the unknown command it is (runc's `create ID`, `exec ID sh`). */
const COMMANDS: readonly string[] = [...TAKES_ID, 'help'];

/** crun keeps its built seccomp programs under its state directory in /run too: a tmpfs, emptied at boot. */
export const DEFAULT_SECCOMP_CACHE = '/run/mountkit/seccomp';

interface OptionDef {
  key: keyof CliOptions;
  /** Takes a value; the allowed values when it is a closed list. */
  value?: true | readonly string[];
}

const OPTIONS: Record<string, OptionDef> = {
  '--help': { key: 'help' },
  '-h': { key: 'help' },
  '--version': { key: 'version' },
  '-v': { key: 'version' },
  '--bundle': { key: 'bundle', value: true },
  '-b': { key: 'bundle', value: true },
  '--plugins': { key: 'plugins', value: true },
  '--no-pivot': { key: 'noPivot' },
  '--no-new-keyring': { key: 'noNewKeyring' },
  '--preserve-fds': { key: 'preserveFds', value: true },
  '--log-level': { key: 'logLevel', value: LOG_LEVELS },
  '--log-format': { key: 'logFormat', value: ['text', 'json'] },
  '--log': { key: 'log', value: true },
  '--format': { key: 'format', value: ['text', 'json'] },
  '--queries': { key: 'queries' },
  '--embedded': { key: 'embedded' },
  '--seccomp-cache': { key: 'seccompCache', value: true },
  '--console-socket': { key: 'consoleSocket', value: true },
  '--pid-file': { key: 'pidFile', value: true },
};

/** The options that shape what `plan` prints, refused with `run` (as --embedded is, above them). */
const PLAN_ONLY: readonly (keyof CliOptions)[] = ['format', 'queries'];

/** The options that take a value, each name as written: bin/mountkit skips their values too when it looks for the command and bundle. */
export const VALUE_OPTIONS: readonly string[] = Object.keys(OPTIONS).filter((name) => OPTIONS[name].value !== undefined);

/** Each option by its name without dashes, which one dash or two may lead. */
const BY_NAME: ReadonlyMap<string, OptionDef> = new Map(Object.entries(OPTIONS).map(([name, def]) => [name.replace(/^--?/, ''), def]));

/**
 * An option as Go's flag package reads runc's: one dash or two, then the name, then its
 * value after `=` when one is given so (a word of its own otherwise, for one that takes a
 * value). A lone `-` and `--` are none: the first is a word, the second ends the options.
 */
const OPTION_WORD = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/;

/** The words strconv.ParseBool takes, which Go's flag package reads `--no-pivot=WORD` by. */
const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((word) => [word, true] as const),
  ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((word) => [word, false] as const),
]);

export function parseArgs(argv: readonly string[]): CliOptions {
  const out: CliOptions = {
    command: undefined,
    help: false,
    version: false,
    bundle: '.',
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
    logLevel: 'warn',
    logFormat: 'text',
    format: 'text',
    queries: false,
    embedded: false,
    seccompCache: DEFAULT_SECCOMP_CACHE,
  };
  // The PLAN_ONLY options given, by key, under the name written last, for the refusal after the loop.
  const given = new Map<keyof CliOptions, string>();
  // After `--`, every word is the command or the container id, one starting with a dash too.
  let ended = false;
  for (let i = 0; i < argv.length; i++) {
    if (out.command !== undefined && !COMMANDS.includes(out.command)) break;
    const arg = argv[i];
    if (arg === '--' && !ended) {
      ended = true;
      continue;
    }
    const option = ended ? null : OPTION_WORD.exec(arg);
    const eq = option?.[2] === undefined ? -1 : arg.length - option[2].length - 1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const def = option ? BY_NAME.get(option[1]) : undefined;
    if (!def) {
      if ((!ended && arg.startsWith('-') && arg !== '-') || (out.command !== undefined && (out.containerId !== undefined || !TAKES_ID.includes(out.command)))) {
        throw new ConfigError('argument', arg, 'unknown option or extra argument (see mountkit --help)');
      }
      if (out.command === undefined) {
        out.command = arg;
        continue;
      }
      const problem = containerIdProblem(arg);
      if (problem) throw new ConfigError('container id', arg, problem);
      out.containerId = arg;
      continue;
    }
    if (!def.value) {
      const on = eq > 0 ? BOOLEAN_WORDS.get(arg.slice(eq + 1)) : true;
      if (on === undefined) throw new ConfigError(name, arg.slice(eq + 1), 'must be true or false (or 1, 0, t, f), or not given a value');
      // As Go's flag package reads a flag given twice: the last word counts.
      if (PLAN_ONLY.includes(def.key)) {
        if (on) given.set(def.key, name);
        else given.delete(def.key);
      }
      (out as unknown as Record<string, unknown>)[def.key] = on;
      continue;
    }
    if (PLAN_ONLY.includes(def.key)) given.set(def.key, name);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(name, undefined, 'needs a value');
    if (Array.isArray(def.value) && !def.value.includes(value)) {
      throw new ConfigError(name, value, `must be one of ${def.value.join(', ')}`);
    }
    // An empty path is the current directory to path.resolve: the cache would be written there, the plugin list read from there.
    // One of whitespace alone (an unset variable quoted with a space, " ") names a file of that name in it: a slip, not a choice.
    const blank = /^\s*$/.test(value);
    if (def.key === 'seccompCache' && blank) throw new ConfigError(name, value, 'must name a directory, or be off');
    if (def.key === 'plugins' && blank) throw new ConfigError(name, value, 'must name a plugin list file');
    // As runc reads its --log, --console-socket and --pid-file: empty is not given (the log on stderr; no console socket, no pid file).
    if ((def.key === 'log' || def.key === 'consoleSocket' || def.key === 'pidFile') && value === '') {
      delete (out as unknown as Record<string, unknown>)[def.key];
      continue;
    }
    if (def.key === 'log' && blank) throw new ConfigError(name, value, 'must name a file, or be empty for stderr');
    if (def.key === 'consoleSocket' && blank) throw new ConfigError(name, value, 'must name a unix socket, or be empty for none');
    if (def.key === 'pidFile' && blank) throw new ConfigError(name, value, 'must name a file, or be empty for none');
    (out as unknown as Record<string, unknown>)[def.key] = def.key === 'preserveFds' ? preserveCount(name, value) : value;
  }
  // A run is always mountkit's own, launcher and all: runPipeline is the embedded one, an API.
  if (out.embedded && out.command === 'run') throw new ConfigError('--embedded', undefined, 'applies to plan only (run always starts the container itself; an embedding calls runPipeline)');
  // run prints nothing of its own for them to shape: the container's output is the program's.
  const [planOption] = given.values();
  if (planOption !== undefined && out.command === 'run') throw new ConfigError(planOption, undefined, "applies to plan only (run's output is the container's)");
  return out;
}

/** A count of descriptors in the one spelling bin/mountkit reads too (core/passed-fds.ts descriptorCount); runc's flag also takes a sign and a base prefix (010 is 8). */
function preserveCount(name: string, value: string): number {
  const count = descriptorCount(value);
  if (count !== undefined) return count;
  // Digits as a count is written, beyond the exact doubles: far more than any process may have open (fs.nr_open).
  if (/^[1-9]\d*$/.test(value)) throw new ConfigError(name, value, 'is more descriptors than a process can have open');
  throw new ConfigError(name, value, 'must be a count, 0 or decimal digits without a sign or leading zero');
}

export const USAGE = `Usage: mountkit [options] COMMAND [container-id]

Prepares a Linux container's root filesystem from an OCI bundle.

Commands:
  run [container-id]   run the bundle's container: prepare its rootfs, then execute process.args
  plan [container-id]  print the calls run would make, with their phase and plugin; needs no privilege
  help                 show this text

The container id is the one hooks and the seccomp agent get in the container's state
(ASCII letters, digits and _ + , - . as runc takes it); default: the bundle
directory's name, which must be such an id too.

Options:
  -b, --bundle DIR     the OCI bundle (default: the current directory)
      --plugins FILE   plugin list (default: the package's plugins.json)
      --no-pivot       jail with MS_MOVE and chroot instead of pivot_root
      --no-new-keyring the container keeps the session keyring mountkit was started
                       with, rather than one of its own
      --preserve-fds N the container's process gets N more descriptors of mountkit's
                       caller at the same numbers: 3 to 3+N-1, or after the LISTEN_FDS
                       ones of socket activation when LISTEN_PID is the pid of the
                       process started (the container then gets LISTEN_FDS and
                       LISTEN_PID=1 too); no hook gets them (default: 0)
      --log-level L    error, warn, info or debug (default: warn)
      --log-format F   text or json (default: text)
      --log FILE       write the log to FILE instead of stderr
      --format F       output of plan: text or json (default: text)
      --queries        plan lists the calls that only read too (stat, readlink,
                       readFile...), as a plugin's tests see them
      --embedded       plan the calls runPipeline (the API) would make in a process
                       already in the bundle's namespaces: no launcher, relaunch or
                       namespace entered, the session as that process has it
      --console-socket PATH
                       a container with process.terminal gets a new pseudo-terminal,
                       whose master is sent to the unix socket PATH (as runc's);
                       without it, run copies that terminal to its own
      --pid-file FILE  once the container's program is next (after the poststart
                       hooks), write its pid as the caller sees it to FILE, in decimal
                       without a newline, through .FILE beside it and rename(2) (as
                       runc's); left when the container ends. A relative path is from
                       the directory mountkit was started in
      --seccomp-cache DIR
                       where run keeps the seccomp programs it builds for the next
                       runs, or off (default: ${DEFAULT_SECCOMP_CACHE})
  -h, --help           show this text
  -v, --version        print the version

Options are read as runc reads its own: one dash or two (-b, --b, -bundle, --bundle),
the value after = or as the next word, true or false after = for one that takes none
(--no-pivot=false), and -- ends them (a container id may then start with a dash).

Exit status: 0 on success, 1 for a runtime error, 2 for a configuration error; once the
container's program has started, run exits with its status, or 128+N when signal N ends
it (as runc run; where mountkit's process becomes the program's, without a pid namespace,
the signal ends the process started), so 1 and 2 may be the program's too: only
mountkit's own failures write an error line on stderr.`;
