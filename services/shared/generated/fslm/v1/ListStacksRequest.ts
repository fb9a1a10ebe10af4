// Original file: proto/fslm/v1/stack.proto


export interface ListStacksRequest {
}

export interface ListStacksRequest__Output {
}
