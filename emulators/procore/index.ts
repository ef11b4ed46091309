export {
  startProcoreEmulator,
  type ProcoreEmulator,
  type ProcoreEmulatorControl,
  type ProcoreEmulatorOptions,
  type ListResource,
} from './emulator';
