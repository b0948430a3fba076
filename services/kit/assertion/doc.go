// Package assertion is how providers learn who is calling without ever seeing the
// client's token: for each provider call the session service attaches a short-lived JWT
// signed by the mesh (gRPC metadata MetadataKey) whose audience is the provider, and a
// provider verifies it against the mesh's public keys (a JWKS the gateway serves).
//
// Claims: iss is the mesh (Config.Issuer, "mcpmesh" by default), sub the principal's
// subject, principal_iss the issuer that authenticated the principal, aud the provider's
// name, exp about a minute after iat, a random jti, and client_id, scope and auth_method
// when the principal has them. The signer's iss is the mesh's rather than the
// principal's, so a provider that also accepts tokens of the identity provider can
// never mistake one for the other; (principal_iss, sub) name the caller as
// principal.Key does.
//
// Keys are PEM files (PKCS#8 Ed25519 or ECDSA P-256 private keys, for example
// `openssl genpkey -algorithm ed25519`). The first file signs; every file's public key
// is published. Rotation: add the new key as a second file everywhere (it is
// published), then make it first (it signs), then drop the old one once assertions
// signed with it have expired.
package assertion
