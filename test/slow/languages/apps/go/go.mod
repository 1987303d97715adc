module example.com/identity-health-app

go 1.25

require (
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk8s-identity-health/cdk8s-identity-health-go/cdk8sidentityhealth v0.1.0
	github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2 v2.70.106
	github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2 v2.9.5
)

// The test (../../go.test.ts) sets the versions (this build's, and the TypeScript app's cdk8s from
// the project's node_modules) and a replace directive per generated module: ours, and the cdk8s
// bindings (the Go module proxy here serves neither cdk8s-core-go v2.70.106 nor cdk8splus27 v2.9.5).
