import { readFileSync } from 'fs';
import * as path from 'path';

/**
 * bin/mountkit passes on the caller's environment as it was given (runc gives the hooks
 * it runs its own): each lowercase name it assigns to is in its `mountkit_names`, whose
 * values the caller gave are kept aside and given back before Node starts. A name assigned
 * and not listed would reach Node, and the runtime's hooks, with the launcher's value.
 */
const LAUNCHER = path.join(__dirname, '..', '..', 'bin', 'mountkit');

/** The names a shell script assigns to: `name=`, `read [-r] [-u FD] names`, `for name in`; comment lines left out. */
function assignedNames(script: string): Set<string> {
  const names = new Set<string>();
  const code = script.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
  for (const m of code.matchAll(/(?:^|[\s;(&|{])([a-z_][a-z0-9_]*)=/g)) names.add(m[1]);
  for (const m of code.matchAll(/\bread(?: -r)?(?: -u "\$\w+")?((?: [a-z_][a-z0-9_]*)+)/g)) for (const n of m[1].trim().split(' ')) names.add(n);
  for (const m of code.matchAll(/\bfor ([a-z_][a-z0-9_]*) in\b/g)) names.add(m[1]);
  return names;
}

describe('assignedNames', () => {
  test.each([
    ['a=1 b=2', ['a', 'b']],
    ['x=$((y + 1)); [ "$z" = run ]', ['x']],
    ['  # c=3\n d=4', ['d']],
    ['while read -r key value _; do :; done', ['key', 'value', '_']],
    ['while read -r -u "$fd" one two; do :; done', ['one', 'two']],
    ['for fd in 3 4; do :; done', ['fd']],
    ['case $a in --bundle=*) b=${a#--bundle=} ;; esac', ['b']],
    ['MOUNTKIT_X=1 export MOUNTKIT_X', []],
  ])('%j', (script, names) => {
    expect([...assignedNames(script)].sort()).toEqual([...names].sort());
  });
});

test("every lowercase name bin/mountkit assigns to is in its mountkit_names, which holds no other", () => {
  const script = readFileSync(LAUNCHER, 'utf8');
  const listed = /^mountkit_names='([^']*)'$/m.exec(script)![1].split(' ');
  const own = [...assignedNames(script)].filter((n) => !n.startsWith('mountkit_')).sort();
  expect(listed).toEqual([...listed].sort());
  expect(listed).toEqual(own);
  // The test of whether any is set, written out name by name, names the same list.
  const tested = /^mountkit_set="([^"]*)"$/m.exec(script)![1];
  expect(tested).toBe(listed.map((n) => `\${${n}+1}`).join(''));
});
