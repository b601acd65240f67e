/**
 * The TLS half of the command, imported only for an https:// URL (api.ts says why):
 * `HTTPSConnection` and the `ssl` context made from --cacert, --cert/--key and -k.
 */
import * as httplib from '../index.ts';
import type { FetchOptions } from './args.ts';
import { CliError, EXIT, fileError, quoted } from './exit-codes.ts';

export { HTTPSConnection } from '../index.ts';

/** The TLS context of an https:// request: --cacert, --cert/--key, -k. */
export function tlsContext(options: FetchOptions): httplib.ssl.SSLContext {
  let context: httplib.ssl.SSLContext;
  if (options.insecure) {
    // With -k nothing is verified, so the CA file does not matter (curl ignores it too).
    context = httplib.ssl._create_unverified_context();
  } else if (options.cacert === null) {
    context = httplib.ssl.create_default_context();
  } else {
    // --cacert replaces the default store (Node's roots and NODE_EXTRA_CA_CERTS), as
    // curl's does: only the CAs in FILE are trusted. An empty name (an unset variable)
    // is no file, as curl says (77): create_default_context, as Python's, would take it
    // for no cafile at all, and trust the default store.
    if (options.cacert === '') {
      throw new CliError(EXIT.CA_CERT, "could not read CA certificates from '': no file name");
    }
    try {
      context = httplib.ssl.create_default_context({ cafile: options.cacert });
    } catch (err) {
      throw new CliError(
        EXIT.CA_CERT,
        `could not read CA certificates from ${quoted(options.cacert)}: ${fileError(err)}`,
        { cause: err },
      );
    }
  }
  if (options.cert !== null) {
    try {
      context.load_cert_chain(options.cert, options.key);
    } catch (err) {
      throw new CliError(
        EXIT.CLIENT_CERT,
        `could not load the client certificate ${quoted(options.cert)}${
          options.key === null ? '' : ` with the key ${quoted(options.key)}`
        }: ${fileError(err)}`,
        { cause: err },
      );
    }
  }
  return context;
}
