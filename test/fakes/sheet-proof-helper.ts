/** The proof of access helper tests share (it lives with the Sheets fake, so the demo uses it too). */
export {
  fetchSender,
  proveSheetAccess,
  requestChallenge,
  writeMetadataAs,
  type ServiceSender,
} from '../../src/sandbox/sheets-fake-proof';
