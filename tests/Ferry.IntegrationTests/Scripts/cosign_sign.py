# Signs an image in a registry the way `cosign sign --key` does, written from cosign's published format with Debian's
# python3-cryptography and the registry HTTP API (independent of Ferry): a simple-signing payload naming the manifest
# digest and the identity, signed with SHA-256 (ECDSA DER or RSA PKCS#1 v1.5), pushed as the one layer of an OCI
# manifest under the tag sha256-<hex>.sig, the signature in the layer's dev.cosignproject.cosign/signature annotation.
# usage: cosign_sign.py REGISTRY REPOSITORY DIGEST IDENTITY PLAIN-KEY.pem
import base64, hashlib, json, sys, urllib.request
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

registry, repository, digest, identity, key_file = sys.argv[1:6]
key = serialization.load_pem_private_key(open(key_file, "rb").read(), None)
payload = json.dumps({"critical": {"identity": {"docker-reference": identity}, "image": {"docker-manifest-digest": digest},
                                   "type": "cosign container image signature"}, "optional": None}, separators=(",", ":")).encode()
if isinstance(key, ec.EllipticCurvePrivateKey):
    raw = key.sign(payload, ec.ECDSA(hashes.SHA256()))
else:
    raw = key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
signature = base64.b64encode(raw).decode()

def put_blob(data):
    blob = "sha256:" + hashlib.sha256(data).hexdigest()
    start = urllib.request.urlopen(urllib.request.Request(f"http://{registry}/v2/{repository}/blobs/uploads/", method="POST"))
    location = start.headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    separator = "&" if "?" in location else "?"
    urllib.request.urlopen(urllib.request.Request(f"{location}{separator}digest={blob}", data=data, method="PUT", headers={"Content-Type": "application/octet-stream"}))
    return blob

payload_digest = put_blob(payload)
config = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z", "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                     "rootfs": {"type": "layers", "diff_ids": [payload_digest]}, "config": {}}, separators=(",", ":")).encode()
config_digest = put_blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config), "digest": config_digest},
                       "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": len(payload), "digest": payload_digest,
                                   "annotations": {"dev.cosignproject.cosign/signature": signature}}]}, separators=(",", ":")).encode()
tag = digest.replace(":", "-") + ".sig"
urllib.request.urlopen(urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", data=manifest, method="PUT",
                                              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
print(tag)
