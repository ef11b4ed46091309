export {
  startOracleErpEmulator,
  ERP_DUTY_ROLES,
  FSCM,
  type ErpCollection,
  type ErpRow,
  type OracleErpEmulator,
} from './emulator';
