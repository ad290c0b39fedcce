# Makes a cosign-format key pair with Debian's python3-cryptography, python3-nacl and hashlib's scrypt, the way
# `cosign generate-key-pair` does: NAME.key is an "ENCRYPTED COSIGN PRIVATE KEY" PEM block holding JSON (scrypt
# N=32768 r=8 p=1 and a NaCl secretbox around the PKCS#8 key), NAME.pub the PEM public key, NAME.plain.pem the
# unencrypted PKCS#8 key (for the test's own signer).
# usage: cosign_keys.py DIR/NAME PASSWORD ec|rsa
import base64, hashlib, json, os, sys
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

out, password, kind = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
salt = os.urandom(32)
n, r, p = 32768, 8, 1
secret = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=128 * 1024 * 1024, dklen=32)
nonce = os.urandom(24)
box = nacl.secret.SecretBox(secret).encrypt(der, nonce).ciphertext
document = {
    "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": base64.b64encode(salt).decode()},
    "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
    "ciphertext": base64.b64encode(box).decode(),
}
body = base64.encodebytes(json.dumps(document).encode()).decode()
with open(out + ".key", "w") as f:
    f.write("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n" + body + "-----END ENCRYPTED COSIGN PRIVATE KEY-----\n")
with open(out + ".pub", "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
with open(out + ".plain.pem", "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
