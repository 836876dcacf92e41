# Where this machine's applications get instance metadata and managed identity tokens (himdsd).
export IDENTITY_ENDPOINT=http://127.0.0.1:40342/metadata/identity/oauth2/token
export IMDS_ENDPOINT=http://127.0.0.1:40342
