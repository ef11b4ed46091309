export {
  startAutodeskEmulator,
  type AutodeskEmulator,
  type AutodeskEmulatorControl,
  type AutodeskEmulatorOptions,
  type ProjectState,
  type FolderEntry,
  type FacilityState,
  type AssetState,
} from './emulator';
