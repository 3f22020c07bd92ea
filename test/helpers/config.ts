// The config builders live in the public testkit (src/testing), so plugin authors get the same ones.
export { makeConfig, makeMount } from '../../src/testing/config';
