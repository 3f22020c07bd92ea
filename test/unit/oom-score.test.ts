import { SCORE_FILE, presetOomScore } from '../../src/core/oom-score';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

describe('presetOomScore', () => {
  test("a lower score than this process's own is written into it, and what it returns writes the old one back", () => {
    const sys = new FakeSyscalls().addFile(SCORE_FILE, '100\n');
    const restore = presetOomScore(sys, -500);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: SCORE_FILE },
      { op: 'writeFile', path: SCORE_FILE, data: '-500' },
    ]);
    restore();
    expect(sys.calls.slice(2)).toEqual([{ op: 'writeFile', path: SCORE_FILE, data: '100' }]);
  });

  test('the same or a higher score is left to the relaunch, which may raise its own', () => {
    for (const adj of [100, 500]) {
      const sys = new FakeSyscalls().addFile(SCORE_FILE, '100\n');
      presetOomScore(sys, adj)();
      expect(sys.calls).toEqual([{ op: 'readFile', path: SCORE_FILE }]);
    }
  });

  test('a score the kernel refuses names the field and the value', () => {
    const sys = new FakeSyscalls().addFile(SCORE_FILE, '0\n').failOn('writeFile', 'EACCES');
    expect(() => presetOomScore(sys, -500)).toThrow(`process.oomScoreAdj -500: writeFile "${SCORE_FILE}": EACCES`);
  });
});
