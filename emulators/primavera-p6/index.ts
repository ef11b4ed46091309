export {
  startPrimaveraEmulator,
  P6_REST,
  REST_MODULE,
  type P6Collection,
  type P6Object,
  type PrimaveraEmulator,
} from './emulator';
