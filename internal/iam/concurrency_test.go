package iam

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestConcurrentAuthAndWrites authenticates and authorizes while policies and keys change;
// run with -race.
func TestConcurrentAuthAndWrites(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	_, _, key, _ := e.userWithKey("bob")
	creds, ok := e.m.LookupKey(key)
	if !ok {
		t.Fatal("bob's key is unknown")
	}
	caller := creds.Caller
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := e.m.LookupKey(key); !ok {
					t.Error("bob's key vanished")
					return
				}
				e.m.Allowed(&caller, "iam:ListUsers", "arn:aws:iam::"+acctA+":user/", nil)
				runtime.Gosched()
			}
		}()
	}
	for i := range 20 {
		name := fmt.Sprintf("p%d", i%3)
		must(root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(name), PolicyDocument: aws.String(allow("*", "iam:ListUsers"))}))(t)
		if i%2 == 0 {
			must(root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(name)}))(t)
		}
		k := must(root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")}))(t).AccessKey
		must(root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId}))(t)
	}
	close(stop)
	wg.Wait()
}

// BenchmarkAuth measures what every request costs the identity layer: a key lookup and an
// authorization of an IAM user with inline, managed and group policies.
func BenchmarkAuth(b *testing.B) {
	t := b
	e := newEnv(b)
	root := e.rootIAM()
	_, _, key, _ := e.userWithKey("bob")
	for i := range 3 {
		must(root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(fmt.Sprint("p", i)),
			PolicyDocument: aws.String(allow(fmt.Sprintf("arn:aws:s3:::bucket-%d/*", i), "s3:GetObject"))}))(t)
	}
	must(root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g")}))(t)
	must(root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("bob")}))(t)
	must(root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	conds := map[string][]string{"aws:sourceip": {"10.0.0.1"}, "aws:securetransport": {"true"}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			creds, ok := e.m.LookupKey(key)
			if !ok {
				b.Error("unknown key")
				return
			}
			c := creds.Caller
			if allowed, _ := e.m.Allowed(&c, "cloudtrail:LookupEvents", "*", conds); !allowed {
				b.Error("denied")
				return
			}
		}
	})
}
