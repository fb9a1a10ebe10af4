// Original file: proto/fslm/v1/stage.proto


export interface DescribeRequest {
}

export interface DescribeRequest__Output {
}
