import type { RegisterPlugin } from '../../core/kernel';
import { DevSymlinksStep } from './links';
import { DeviceNodesStep } from './nodes';
import { PtmxStep } from './ptmx';

export { DeviceNodesStep, DevSymlinksStep, PtmxStep };

export const register: RegisterPlugin = (api) => {
  api.step(DeviceNodesStep);
  api.step(PtmxStep);
  api.step(DevSymlinksStep);
};
