#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "busbar/errors.h"

namespace busbar::host {
namespace {

// ALPN: the listener speaks HTTP/1.1 only; a client offering h2 first still gets http/1.1.
// Keys are read without a passphrase: OpenSSL's default would ask for one on the terminal.
int noPassphrase(char*, int, int, void*) { return -1; }

int selectHttp11(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                 unsigned int in_size, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_size, kHttp11, sizeof kHttp11, in, in_size) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no http/1.1 offered: carry on without ALPN
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::string takeOpenSslErrors(const std::string& fallback) {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += (text.empty() ? "" : "; ") + std::string(buffer);
  }
  return text.empty() ? fallback : text;
}

TlsServerContext::TlsServerContext(const ListenerTlsSettings& settings, const std::string& section,
                                   const std::string& config_file) {
  const std::string where = config_file + ": [" + section + "] ";
  ERR_clear_error();
  context_ = SSL_CTX_new(TLS_server_method());
  if (context_ == nullptr) {
    throw ConfigError(where + "tls: OpenSSL could not make a TLS context (" +
                      takeOpenSslErrors("no reason given") + ")");
  }
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_mode(context_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A client that closes without close_notify ends its stream, as most do over HTTP/1.1.
  SSL_CTX_set_options(context_, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_alpn_select_cb(context_, selectHttp11, nullptr);
  SSL_CTX_set_default_passwd_cb(context_, noPassphrase);
  if (SSL_CTX_use_certificate_chain_file(context_, settings.cert_file.c_str()) != 1) {
    const std::string reason = takeOpenSslErrors("no reason given");
    SSL_CTX_free(context_);
    throw ConfigError(where + "tls_cert_file: '" + settings.cert_file +
                      "' holds no PEM certificate chain OpenSSL can load (" + reason +
                      "). Fix: name the PEM file of the listener's certificate, followed by "
                      "its intermediate certificates");
  }
  // Read apart from its use, so that a file that holds no key and a key of another certificate
  // get their own messages.
  EVP_PKEY* key = nullptr;
  if (BIO* file = BIO_new_file(settings.key_file.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(file, nullptr, noPassphrase, nullptr);
    BIO_free(file);
  }
  if (key == nullptr) {
    const std::string reason = takeOpenSslErrors("no reason given");
    SSL_CTX_free(context_);
    throw ConfigError(where + "tls_key_file: '" + settings.key_file +
                      "' holds no PEM private key OpenSSL can load (" + reason +
                      "; an encrypted key is not supported). Fix: name the PEM file of the "
                      "certificate's private key, unencrypted and readable by busbar's user "
                      "only");
  }
  const bool key_taken = SSL_CTX_use_PrivateKey(context_, key) == 1;
  EVP_PKEY_free(key);
  if (!key_taken || SSL_CTX_check_private_key(context_) != 1) {
    const std::string reason = takeOpenSslErrors("no reason given");
    SSL_CTX_free(context_);
    throw ConfigError(where + "tls_key_file: '" + settings.key_file +
                      "' is not the private key of the certificate in tls_cert_file '" +
                      settings.cert_file + "' (" + reason +
                      "). Fix: name the key the certificate was issued for");
  }
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(context_); }

}  // namespace busbar::host
