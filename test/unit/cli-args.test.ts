import { constants, tmpdir } from 'os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { VALUE_OPTIONS, parseArgs } from '../../src/cli/args';
import { loadRunConfig } from '../../src/cli/run';
import { checkedModel } from '../../src/core/config/model-check';
import { PASSED_SIGNALS } from '../../src/cli/forward';
import { ConfigError } from '../../src/core/errors';

describe('parseArgs', () => {
  test('defaults', () => {
    expect(parseArgs([])).toEqual({
      command: undefined, help: false, version: false, bundle: '.', noPivot: false, noNewKeyring: false, preserveFds: 0,
      logLevel: 'warn', logFormat: 'text', format: 'text', queries: false, embedded: false, seccompCache: '/run/mountkit/seccomp',
    });
  });

  test.each([
    [['run'], { command: 'run' }],
    [['run', '--bundle', '/b'], { command: 'run', bundle: '/b' }],
    [['-b', '/b', 'run'], { command: 'run', bundle: '/b' }],
    [['run', '--bundle=/b'], { command: 'run', bundle: '/b' }],
    [['run', '--no-pivot'], { command: 'run', noPivot: true }],
    [['run', '--no-new-keyring', 'c0ffee'], { command: 'run', noNewKeyring: true, containerId: 'c0ffee' }],
    [['run', '--plugins', 'p.json'], { command: 'run', plugins: 'p.json' }],
    [['run', '--log-level', 'debug'], { command: 'run', logLevel: 'debug' }],
    [['run', '--log-format=json'], { command: 'run', logFormat: 'json' }],
    [['run', '--log', '/tmp/l'], { command: 'run', log: '/tmp/l' }],
    [['run', '--console-socket', '/s'], { command: 'run', consoleSocket: '/s' }],
    [['plan', '--format', 'json'], { command: 'plan', format: 'json' }],
    [['plan', '--queries'], { command: 'plan', queries: true }],
    [['plan', '--embedded'], { command: 'plan', embedded: true }],
    [['run', '--seccomp-cache', 'off'], { command: 'run', seccompCache: 'off' }],
    [['run', '--seccomp-cache=/var/cache/mk'], { command: 'run', seccompCache: '/var/cache/mk' }],
    [['run', '--seccomp-cache', ' cache'], { command: 'run', seccompCache: ' cache' }],
    [['run', '--plugins', ' p.json'], { command: 'run', plugins: ' p.json' }],
    [['run', '--log', 'l '], { command: 'run', log: 'l ' }],
    [['run', '--console-socket', ' s'], { command: 'run', consoleSocket: ' s' }],
    [['run', 'c0ffee'], { command: 'run', containerId: 'c0ffee' }],
    [['run', '--preserve-fds', '2'], { command: 'run', preserveFds: 2 }],
    [['run', '--preserve-fds=0'], { command: 'run', preserveFds: 0 }],
    [['run', '--preserve-fds', '10'], { command: 'run', preserveFds: 10 }],
    [['run', '--preserve-fds', '9007199254740991'], { command: 'run', preserveFds: 9007199254740991 }],
    [['run', 'web_1.a+b,c-d', '--bundle', '/b'], { command: 'run', bundle: '/b', containerId: 'web_1.a+b,c-d' }],
    [['--bundle', '/b', 'run', '...'], { command: 'run', bundle: '/b', containerId: '...' }],
    [['plan', '--format', 'json', 'run'], { command: 'plan', format: 'json', containerId: 'run' }],
    [['--help'], { help: true }],
    [['-h'], { help: true }],
    [['--version'], { version: true }],
    [['-v'], { version: true }],
    // As Go's flag package reads runc's options: one dash or two before any name, the value after = for any.
    [['-b=/b', 'run'], { command: 'run', bundle: '/b' }],
    [['run', '-b='], { command: 'run', bundle: '' }],
    [['run', '--b', '/b'], { command: 'run', bundle: '/b' }],
    [['run', '-bundle', '/b', '-pid-file=p', '-log-format', 'json'], { command: 'run', bundle: '/b', pidFile: 'p', logFormat: 'json' }],
    [['run', '-b', '--', 'c1'], { command: 'run', bundle: '--', containerId: 'c1' }],
    [['run', '--bundle=a=b'], { command: 'run', bundle: 'a=b' }],
    [['run', '--no-pivot=true', '--no-new-keyring=1'], { command: 'run', noPivot: true, noNewKeyring: true }],
    [['run', '--no-pivot', '--no-pivot=false', '-no-new-keyring=F'], { command: 'run', noPivot: false, noNewKeyring: false }],
    [['-help=True'], { help: true }],
    [['-version'], { version: true }],
    [['--v=0'], { version: false }],
    // A plan-only option set to false asks nothing of run.
    [['run', '--queries=false'], { command: 'run', queries: false }],
    [['--queries', 'run', '--queries=false'], { command: 'run', queries: false }],
    // -- ends the options: each word after it is the command or the container id, one with a leading dash too.
    [['run', '--', '-c1'], { command: 'run', containerId: '-c1' }],
    [['--', 'run', '--'], { command: 'run', containerId: '--' }],
    [['-b', '/b', '--', 'plan', '--bundle'], { command: 'plan', bundle: '/b', containerId: '--bundle' }],
    [['run', '-'], { command: 'run', containerId: '-' }],
  ])('%j', (argv, expected) => expect(parseArgs(argv)).toMatchObject(expected));

  test.each([
    [['create', 'c0ffee'], 'create'],
    [['exec', 'c0ffee', 'sh', '-c', 'true'], 'exec'],
    [['c0ffee', 'run'], 'c0ffee'],
    [['--bundle', '/b', 'delete', '--force', 'c0ffee'], 'delete'],
  ])("after a word that is no command (runc's %j) nothing more is read: the command is the error", (argv, command) => {
    expect(parseArgs(argv)).toMatchObject({ command });
  });

  test('an empty --log or --console-socket is none, as runc reads them, even after one was given', () => {
    expect(parseArgs(['run', '--log', '/tmp/l', '--log', '', '--console-socket', '/s', '--console-socket='])).toEqual(parseArgs(['run']));
  });

  test.each([
    [['--bogus'], 'argument "--bogus": unknown option or extra argument (see mountkit --help)'],
    [['run', 'c0ffee', 'extra'], 'argument "extra": unknown option or extra argument (see mountkit --help)'],
    [['help', 'extra'], 'argument "extra": unknown option or extra argument (see mountkit --help)'],
    [['run', 'a/b'], 'container id "a/b": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    [['run', 'a b'], 'container id "a b": may hold only ASCII letters, digits and _ + , - .'],
    [['run', 'caf\u00e9'], 'container id "caf\u00e9": may hold only ASCII letters'],
    [['run', '..'], 'container id "..": must not be . or .. (as runc takes an id)'],
    [['plan', '.'], 'container id ".": must not be . or ..'],
    [['run', ''], 'container id "": must not be empty'],
    [['run', '--bundle'], '--bundle: needs a value'],
    [['run', '--log-level', 'loud'], '--log-level "loud": must be one of error, warn, info, debug'],
    [['run', '--log-format=xml'], '--log-format "xml": must be one of text, json'],
    [['run', '--preserve-fds', '-1'], '--preserve-fds "-1": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds=two'], '--preserve-fds "two": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '+2'], '--preserve-fds "+2": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '0x2'], '--preserve-fds "0x2": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', ''], '--preserve-fds "": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '010'], '--preserve-fds "010": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '00'], '--preserve-fds "00": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '-0'], '--preserve-fds "-0": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '1e3'], '--preserve-fds "1e3": must be a count, 0 or decimal digits without a sign or leading zero'],
    [['run', '--preserve-fds', '9007199254740992'], '--preserve-fds "9007199254740992": is more descriptors than a process can have open'],
    [['run', '--preserve-fds', '99999999999999999999'], '--preserve-fds "99999999999999999999": is more descriptors than a process can have open'],
    [['run', '--preserve-fds'], '--preserve-fds: needs a value'],
    [['run', '--seccomp-cache', ''], '--seccomp-cache "": must name a directory, or be off'],
    [['run', '--seccomp-cache='], '--seccomp-cache "": must name a directory, or be off'],
    [['run', '--seccomp-cache', ' '], '--seccomp-cache " ": must name a directory, or be off'],
    [['run', '--seccomp-cache=\t \n'], '--seccomp-cache "\\t \\n": must name a directory, or be off'],
    [['run', '--seccomp-cache', '\u00a0'], '--seccomp-cache "\u00a0": must name a directory, or be off'],
    [['run', '--plugins', ''], '--plugins "": must name a plugin list file'],
    [['run', '--plugins', ' '], '--plugins " ": must name a plugin list file'],
    [['run', '--plugins=\t'], '--plugins "\\t": must name a plugin list file'],
    [['run', '--log', ' '], '--log " ": must name a file, or be empty for stderr'],
    [['run', '--log=\n '], '--log "\\n ": must name a file, or be empty for stderr'],
    [['run', '--log', '/tmp/l', '--log', '\u00a0'], '--log "\u00a0": must name a file, or be empty for stderr'],
    [['run', '--console-socket', ' '], '--console-socket " ": must name a unix socket, or be empty for none'],
    [['run', '--console-socket=\t'], '--console-socket "\\t": must name a unix socket, or be empty for none'],
    [['run', '--embedded'], '--embedded: applies to plan only (run always starts the container itself; an embedding calls runPipeline)'],
    [['---bundle', '/x', 'run'], 'argument "---bundle": unknown option or extra argument (see mountkit --help)'],
    [['-=x', 'run'], 'argument "-=x": unknown option or extra argument (see mountkit --help)'],
    [['run', '--no-pivot=yes'], '--no-pivot "yes": must be true or false (or 1, 0, t, f), or not given a value'],
    [['run', '-no-new-keyring='], '-no-new-keyring "": must be true or false (or 1, 0, t, f), or not given a value'],
    [['run', '--', 'c1', 'c2'], 'argument "c2": unknown option or extra argument (see mountkit --help)'],
    [['run', '--', '-b', '/x'], 'argument "/x": unknown option or extra argument (see mountkit --help)'],
    [['run', '--', 'a/b'], 'container id "a/b": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    [['--queries=1', 'run'], "--queries: applies to plan only (run's output is the container's)"],
    [['run', '--pid-file', ' '], '--pid-file " ": must name a file, or be empty for none'],
    [['run', '--format', 'json'], "--format: applies to plan only (run's output is the container's)"],
    [['--format=text', 'run', 'c1'], "--format: applies to plan only (run's output is the container's)"],
    [['run', '--queries'], "--queries: applies to plan only (run's output is the container's)"],
  ])('%j is refused', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(ConfigError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('bin/mountkit, the shell launcher', () => {
  test('passes on, by number, the signals the Node entry passes on, SIGPROF, and the real-time ones from 34 to 64', () => {
    const launcher = readFileSync(path.join(__dirname, '..', '..', 'bin', 'mountkit'), 'utf8');
    const passed = /^passed='([0-9 ]+)'$/m.exec(launcher)?.[1].split(' ').map(Number) ?? [];
    expect(passed).toEqual([...PASSED_SIGNALS, 'SIGPROF'].map((sig) => constants.signals[sig as NodeJS.Signals]).sort((a, b) => a - b));
    expect(launcher).toMatch(/^rt=34\nwhile \[ "\$rt" -le 64 \]; do$/m);
  });

  test('skips the value of exactly the options parseArgs gives a value, and reads the one given after = of those whose value it uses', () => {
    const launcher = readFileSync(path.join(__dirname, '..', '..', 'bin', 'mountkit'), 'utf8');
    // The launcher's case arms that set `expect` (bundle, value, preserve, cache, console, logfile, logformat or pidfile) list the options taking one, by their names without dashes.
    const arms = [...launcher.matchAll(/^\s*([-\w|]+)\) (?:\w+=\w+; )?expect=(bundle|value|preserve|cache|console|logfile|logformat|pidfile) ;;$/gm)].map((m) => [m[2], m[1].split('|')] as const);
    expect(arms).toHaveLength(8);
    expect(arms.flatMap(([, names]) => names).sort()).toEqual(VALUE_OPTIONS.map((name) => name.replace(/^--?/, '')).sort());
    // Those whose value it uses (all but `value`'s) have an arm in the `*=*` case too, with version's.
    const block = /^ {4}\*=\*\)\n {6}value=\$\{key#\*=\}\n {6}case \$\{key%%=\*\} in\n([\s\S]*?)^ {6}esac$/m.exec(launcher)?.[1] ?? '';
    const given = [...block.matchAll(/^ {8}([-\w|]+)\) /gm)].flatMap((m) => m[1].split('|'));
    expect(given.sort()).toEqual([...arms.flatMap(([kind, names]) => (kind === 'value' ? [] : names)), 'v', 'version'].sort());
  });
});

describe('loadRunConfig', () => {
  test("the config run and plan check against the host without checking the model again (ValidateOptions.modelChecked): with every option the CLI adds, one checkedModel takes as it is", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-cli-config-'));
    try {
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } }, linux: { namespaces: [{ type: 'mount' }] } }));
      const opts = parseArgs(['run', '--bundle', dir, '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', '--console-socket', 'console.sock', 'c0ffee']);
      const config = loadRunConfig(opts, undefined, 3);
      expect(config).toMatchObject({ noPivot: true, noNewKeyring: true, listenFds: 3, preserveFds: 2, id: 'c0ffee', consoleSocket: path.resolve('console.sock') });
      expect(checkedModel(config)).toEqual(config);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
