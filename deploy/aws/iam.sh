#!/usr/bin/env bash
# Creates (idempotently) the two EC2 instance profiles cluster.yaml names, with least-privilege policies:
#   policy-ray-head    the head: Ray's autoscaler launches/terminates workers (EC2, as Ray's own default
#                      profile does), passes the worker role to them, and the job driver lists/hashes the
#                      incoming documents and writes the Delta lake.
#   policy-ray-worker  extractor and OCR nodes: read the incoming documents, nothing else.
# Run once per AWS account with IAM admin credentials:
#   INCOMING_BUCKET=acme-policy-incoming LAKE_BUCKET=acme-policy-lake deploy/aws/iam.sh
set -euo pipefail

: "${INCOMING_BUCKET:?set INCOMING_BUCKET to the bucket the carriers send documents to}"
: "${LAKE_BUCKET:?set LAKE_BUCKET to the bucket that holds the Delta lake}"
HEAD=policy-ray-head
WORKER=policy-ray-worker
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)

TRUST='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'

READ_INCOMING=$(cat <<JSON
{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::${INCOMING_BUCKET}"},
{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${INCOMING_BUCKET}/*"}
JSON
)

WORKER_POLICY=$(cat <<JSON
{"Version": "2012-10-17", "Statement": [${READ_INCOMING}]}
JSON
)

HEAD_POLICY=$(cat <<JSON
{"Version": "2012-10-17", "Statement": [
  ${READ_INCOMING},
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::${LAKE_BUCKET}"},
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
   "Resource": "arn:aws:s3:::${LAKE_BUCKET}/*"},
  {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::${ACCOUNT}:role/${WORKER}"}
]}
JSON
)

ensure_profile() {  # ensure_profile NAME: a role and an instance profile of the same name, joined
  local name=$1
  aws iam get-role --role-name "$name" >/dev/null 2>&1 \
    || aws iam create-role --role-name "$name" --assume-role-policy-document "$TRUST" >/dev/null
  aws iam get-instance-profile --instance-profile-name "$name" >/dev/null 2>&1 \
    || aws iam create-instance-profile --instance-profile-name "$name" >/dev/null
  if ! aws iam get-instance-profile --instance-profile-name "$name" \
      --query 'InstanceProfile.Roles[].RoleName' --output text | grep -qw "$name"; then
    aws iam add-role-to-instance-profile --instance-profile-name "$name" --role-name "$name"
  fi
}

ensure_profile "$WORKER"
aws iam put-role-policy --role-name "$WORKER" --policy-name policy-ray-worker \
  --policy-document "$WORKER_POLICY"

ensure_profile "$HEAD"
aws iam put-role-policy --role-name "$HEAD" --policy-name policy-ray-head \
  --policy-document "$HEAD_POLICY"
# What Ray's default head profile (ray-autoscaler-v1) gets for launching and tagging instances.
aws iam attach-role-policy --role-name "$HEAD" --policy-arn arn:aws:iam::aws:policy/AmazonEC2FullAccess

echo "instance profiles ${HEAD} and ${WORKER} are ready (IAM changes can take a minute to propagate)"
