export {
  startAutodeskEmulator,
  type AutodeskEmulator,
  type AutodeskEmulatorControl,
  type AutodeskEmulatorOptions,
  type ProjectState,
  type FolderEntry,
} from './emulator';
