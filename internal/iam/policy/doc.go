// Package policy is Kiri's one IAM policy engine: it parses, validates and evaluates the
// policy documents that decide every authorization in strict mode — identity-based
// policies, resource-based policies (bucket, function, queue, topic and event bus
// policies), role trust policies, permissions boundaries and session policies — as AWS's
// IAM documentation specifies them ("Policy evaluation logic", "IAM JSON policy elements
// reference", "Condition operators", "IAM policy variables", "AWS global condition context
// keys", "Cross-account policy evaluation logic"). It is pure logic: no storage, no clock.
//
// Parse a document once and keep the *Policy (it is immutable and safe to share):
//
//	p, err := policy.Parse(doc, policy.Resource)    // or policy.Identity, policy.Trust
//	var perr *policy.Error
//	if errors.As(err, &perr) { /* MalformedPolicyDocument: perr.Message; perr.Problem for
//	                               services that word the refusal their own way */ }
//
// Then decide each request:
//
//	d := policy.Evaluate(&policy.Request{
//		Principal: policy.Principal{Type: policy.AssumedRole, Account: "111122223333",
//			ARN:    "arn:aws:sts::111122223333:assumed-role/app/s1",
//			Parent: "arn:aws:iam::111122223333:role/app", UserID: "AROA...:s1"},
//		Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key",
//		ResourceAccount: "111122223333", Time: now, SourceIP: addr,
//		Values: keys, // service condition keys (s3:prefix, ...), asked for lazily
//	}, &policy.Set{Identity: rolePolicies, Resource: bucketPolicy, Boundary: b, Session: s})
//	if !d.Allowed {
//		msg := d.Message(principalARN, action, resource) // AWS's access-denied wording
//	}
//
// Who the caller is decides the Principal:
//   - an unsigned request is Anonymous; only a resource-based policy naming "*" allows it;
//   - an account's root user, and every identity of Kiri's keys file (each key belongs to
//     one account and acts as its root), is Root: allowed everything in its own account that
//     no policy explicitly denies, and across accounts what a resource-based policy grants
//     its account. Pass no identity-based policies for it;
//   - an IAM user is User, a role session AssumedRole (Parent = the role's ARN, Set.Identity
//     = the role's policies), a GetFederationToken session FederatedUser (Parent = the user);
//   - a service delivering on its own behalf (s3.amazonaws.com sending a notification to a
//     queue) is Service with ARN the service principal; set Request.SourceARN and
//     SourceAccount to the resource it acts for. Only resource-based policies allow it.
//
// For sts:AssumeRole, pass the role's trust policy (parsed as Trust) as Set.Resource and the
// role as the Resource: a trust policy must allow even within its account.
//
// Conditions compare keys the engine derives from the Request (aws:PrincipalArn,
// aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/*, aws:username, aws:userid,
// aws:CurrentTime, aws:EpochTime, aws:SecureTransport, aws:SourceIp, aws:UserAgent,
// aws:Referer, aws:RequestedRegion, aws:SourceArn, aws:SourceAccount, aws:ResourceAccount,
// aws:MultiFactorAuthPresent, aws:TokenIssueTime, aws:PrincipalIsAWSService,
// aws:PrincipalServiceName, aws:FederatedProvider, aws:ViaAWSService) and any other key from
// Request.Values (absent when nil: Kiri has no VPCs, so aws:SourceVpc and the like are).
// Policy variables (${aws:username}, ${aws:PrincipalTag/team, 'default'}, ${*}, ${?}, ${$})
// are read in Resource and in string, ARN and Bool condition values of 2012-10-17
// documents.
//
// Evaluate does not allocate, beyond what Request.Values does, unless a condition compares a
// derived time or address as a string or a pattern has more than four variables.
//
// Known differences from AWS: Kiri has no SCPs, RCPs or VPC endpoint policies; principals
// are not checked to exist (the IAM service does that); StringEqualsIgnoreCase with policy
// variables folds ASCII case only; a Resource or ArnLike pattern with fewer than six
// colon-separated parts matches only the pattern "*".
package policy
