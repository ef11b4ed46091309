export {
  startSapEmulator,
  type CommunicationUser,
  type SapEmulator,
  type SapEmulatorControl,
  type SapEmulatorOptions,
  type SapScenario,
} from './emulator';
