import { parseMountInfo, stackOrder, withOptionalFields } from '../../src/core/mountinfo';

describe('withOptionalFields: a mountinfo line with other optional fields', () => {
  test.each<[string, string, string[], string]>([
    ['none for one', '25 24 0:23 / /dev/shm rw,relatime shared:3 - tmpfs tmpfs rw', [], '25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw'],
    ['two for none', '25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw', ['shared:9', 'master:3'], '25 24 0:23 / /dev/shm rw,relatime shared:9 master:3 - tmpfs tmpfs rw'],
    ['an escaped path and a "-" in the source kept', '40 27 0:30 / /a\\040b rw master:1 - tmpfs - rw', ['unbindable'], '40 27 0:30 / /a\\040b rw unbindable - tmpfs - rw'],
  ])('%s', (_, line, fields, expected) => {
    expect(withOptionalFields(line, fields)).toBe(expected);
    expect(parseMountInfo(expected)[0].optional).toEqual(fields);
  });

  test('a line without the separator is refused', () => {
    expect(() => withOptionalFields('25 24 0:23 / /dev/shm rw', [])).toThrow('malformed mountinfo line');
  });
});

describe('stackOrder: the mounts at one mountpoint, each after the one it is stacked on', () => {
  test.each<[string, string[], number[]]>([
    ['in mountinfo order already', ['26 24 0:24 / /dev/pts rw - devpts devpts rw', '29 26 0:26 / /dev/pts rw - devpts devpts rw'], [26, 29]],
    ['listed the other way round', ['29 26 0:26 / /dev/pts rw - devpts devpts rw', '31 29 0:27 / /dev/pts rw - devpts devpts rw', '26 24 0:24 / /dev/pts rw - devpts devpts rw'], [26, 29, 31]],
    ['one', ['22 27 0:21 / /proc rw - proc proc rw'], [22]],
  ])('%s', (_, lines, ids) => {
    expect(stackOrder(parseMountInfo(lines.join('\n'))).map((m) => m.id)).toEqual(ids);
  });
});
